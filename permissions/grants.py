"""Object grants that follow the flow.

When a case reaches a step, the role groups that act on that step get the step's permission on that
case (django-guardian); when it leaves the step or closes, they lose it. While a case is open, the
designated landlord's agents and the target réservataire's agents also hold `cases.view_case` on it.
viewflow's `.Permission()` checks and our task queue (permissions.queues) both read these rows.

Every change of step, designation or orientation recomputes the whole set (`sync_case_grants`), so a
designation that ends or a closure leaves no grant behind.
"""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.db.models.signals import post_migrate
from guardian.models import GroupObjectPermission

from audit.bulk import create_with_history, delete_with_history, replace_group_grants
from cases.models import Case

from .models import Membership, role_group_name, role_groups
from .policy import memberships_of
from .roles import COMMISSION_ROLES, Role

STEP_PERMISSIONS = (
    "do_diagnostic",
    "review_in_committee",
    "make_proposal",
    "record_caleol",
    "record_reply",
    "record_lease",
)
VIEW_PERMISSION = "view_case"
MANAGED_PERMISSIONS = (*STEP_PERMISSIONS, VIEW_PERMISSION)

# Case status → the step permission its open task needs (mirrors workflows.flows.STEPS).
STATUS_STEP = {
    "diagnostic": "do_diagnostic",
    "committee": "review_in_committee",
    "proposal": "make_proposal",
    "caleol": "record_caleol",
    "reply": "record_reply",
    "lease": "record_lease",
}


def commission_groups(case):
    """(organisation, role) of the commission memberships whose territory covers the household's commune."""
    commune_id = case.household.commune_id
    if not commune_id:
        # Without a commune no territory covers the case (a None lookup would match every membership
        # without communes).
        return []
    memberships = Membership.objects.filter(role__in=COMMISSION_ROLES, is_active=True).filter(
        Q(communes__insee_code=commune_id) | Q(communes__isnull=True, organisation__communes__insee_code=commune_id)
    )
    return sorted(set(memberships.values_list("organisation_id", "role")))


def groups_for_step(case, codename: str):
    """(organisation, role) of the role groups acting on the step."""
    if codename == "do_diagnostic":
        return [(case.organisation_id, Role.SOCIAL_WORKER), (case.organisation_id, Role.SUPERVISOR)]
    if codename == "review_in_committee":
        return commission_groups(case)
    landlord = [(case.designated_landlord_id, Role.LANDLORD_AGENT)] if case.designated_landlord_id else []
    if codename in ("make_proposal", "record_caleol", "record_lease"):
        return landlord
    if codename == "record_reply":
        return landlord + [(case.organisation_id, Role.SOCIAL_WORKER)]
    raise ValueError(f"unknown step permission {codename}")


def view_groups(case):
    """The partner organisations that follow an open case: designated landlord, target réservataire."""
    groups = []
    if case.designated_landlord_id:
        groups.append((case.designated_landlord_id, Role.LANDLORD_AGENT))
    if case.target_reservataire_id:
        groups.append((case.target_reservataire_id, Role.RESERVATAIRE_AGENT))
    return groups


_PERMISSION_IDS: dict[str, int] = {}


def permission_ids() -> dict[str, int]:
    """{codename: auth_permission id} of the case permissions this module manages, read once per
    process (the rows never change outside `migrate`, which clears this, flushes included)."""
    if not _PERMISSION_IDS:
        content_type = ContentType.objects.get_for_model(Case)
        _PERMISSION_IDS.update(
            Permission.objects.filter(content_type=content_type, codename__in=MANAGED_PERMISSIONS).values_list(
                "codename", "pk"
            )
        )
    return _PERMISSION_IDS


def _forget_permission_ids(**kwargs) -> None:
    _PERMISSION_IDS.clear()


post_migrate.connect(_forget_permission_ids, dispatch_uid="permissions.grants.forget_permission_ids")


def _case_rows(case):
    return GroupObjectPermission.objects.filter(
        object_pk=str(case.pk),
        content_type=ContentType.objects.get_for_model(Case),
        permission_id__in=list(permission_ids().values()),
    )


def role_group_names(user) -> list[str]:
    """The names of the role groups the user's active memberships stand for (permissions.models.role_groups)."""
    return [f"org{g.organisation_id}:{g.role}" for g in memberships_of(user)]


def holds_step(user, codename: str, case_ref=None) -> Exists:
    """SQL flag: one of the user's role groups (from the memberships already read) holds the step
    permission `codename` on the case `case_ref` (default: the outer query's case). What viewflow's
    `can_assign` asks guardian (the user's and groups' object permissions, three queries), in the
    query that checks the user's scope."""
    return Exists(
        GroupObjectPermission.objects.filter(
            content_type=ContentType.objects.get_for_model(Case),
            object_pk=Cast(
                case_ref if case_ref is not None else OuterRef("pk"),
                output_field=GroupObjectPermission._meta.get_field("object_pk"),
            ),
            permission_id=permission_ids()[codename],
            group__name__in=role_group_names(user),
        )
    )


def revoke_case_grants(case) -> None:
    """Remove every grant this module manages on the case (designation ended, step left, case closed),
    with their history rows: one statement on PostgreSQL (audit.bulk.replace_group_grants)."""
    if not _replace(case, []):
        delete_with_history(list(_case_rows(case)), GroupObjectPermission)


def _replace(case, wanted) -> bool:
    """PostgreSQL: the whole delta and its history in one statement, without reading the current
    grants first. False (nothing written) elsewhere or when a group was being created concurrently."""
    if connection.vendor != "postgresql":
        return False
    perms = permission_ids()
    return replace_group_grants(
        content_type_id=ContentType.objects.get_for_model(Case).pk,
        object_pk=str(case.pk),
        managed=sorted(perms.values()),
        wanted=[(role_group_name(org_id, role), perms[code]) for (org_id, role), code in wanted],
    )


def sync_case_grants(case, step_codename: str | None = None) -> None:
    """Make the case's grants exactly what its current step, designation and orientation call for.

    Only the difference is written (grants kept across steps, such as view_case, are not churned), as
    one delta: the rows gone in one delete, the new ones in one insert, their history rows in one insert
    each (audit.bulk), chained with the transition's other history rows.
    """
    wanted = []
    if case.closed_at is None and case.status != "closed":
        codename = step_codename or STATUS_STEP.get(case.status)
        if codename:
            wanted += [(g, codename) for g in groups_for_step(case, codename)]
        wanted += [(g, VIEW_PERMISSION) for g in view_groups(case)]
    if _replace(case, wanted):
        return
    content_type = ContentType.objects.get_for_model(Case)
    perms = permission_ids()
    rows = list(_case_rows(case).select_related("group"))
    # The groups already holding a grant on the case are read with their rows: often all those wanted
    # (a landlord's groups from one step to the next), then no group lookup.
    groups = (
        role_groups({pair for pair, _code in wanted}, known={r.group.name: r.group for r in rows}) if wanted else {}
    )
    wanted_keys = {(groups[pair].pk, perms[code]) for pair, code in wanted}
    existing = {(row.group_id, row.permission_id): row for row in rows}
    delete_with_history([row for key, row in existing.items() if key not in wanted_keys], GroupObjectPermission)
    create_with_history(
        [
            GroupObjectPermission(
                group_id=group_id, permission_id=permission_id, content_type=content_type, object_pk=str(case.pk)
            )
            for group_id, permission_id in sorted(wanted_keys - set(existing))
        ],
        GroupObjectPermission,
    )


def grant_step(case, codename: str) -> None:
    """Give the groups acting on this step its permission on the case, and nothing else."""
    sync_case_grants(case, codename)
