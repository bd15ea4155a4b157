"""Object grants that follow the flow.

When a case reaches a step, the role groups that act on that step get the step's permission on that
case (django-guardian); when it leaves the step or closes, they lose it. viewflow's `.Permission()`
checks and our task queue both read these rows.
"""

from django.db.models import Q
from guardian.models import GroupObjectPermission
from guardian.shortcuts import assign_perm

from .models import Membership, role_group
from .roles import COMMISSION_ROLES, Role

STEP_PERMISSIONS = (
    "do_diagnostic",
    "review_in_committee",
    "make_proposal",
    "record_caleol",
    "record_reply",
    "record_lease",
)


def commission_groups(case):
    """Groups of the commission organisations whose territory covers the household's commune."""
    commune_id = case.household.commune_id
    memberships = Membership.objects.filter(role__in=COMMISSION_ROLES, is_active=True).filter(
        Q(communes__insee_code=commune_id) | Q(communes__isnull=True, organisation__communes__insee_code=commune_id)
    )
    pairs = set(memberships.values_list("organisation_id", "role"))
    from cases.models import Organisation

    orgs = Organisation.objects.in_bulk({org_id for org_id, _ in pairs})
    return [role_group(orgs[org_id], role) for org_id, role in sorted(pairs)]


def groups_for_step(case, codename: str):
    if codename == "do_diagnostic":
        return [role_group(case.organisation, Role.SOCIAL_WORKER), role_group(case.organisation, Role.SUPERVISOR)]
    if codename == "review_in_committee":
        return commission_groups(case)
    landlord = [role_group(case.designated_landlord, Role.LANDLORD_AGENT)] if case.designated_landlord else []
    if codename in ("make_proposal", "record_caleol", "record_lease"):
        return landlord
    if codename == "record_reply":
        return landlord + [role_group(case.organisation, Role.SOCIAL_WORKER)]
    raise ValueError(f"unknown step permission {codename}")


def revoke_case_grants(case) -> None:
    """Remove every step grant on the case (designation ended, step left, case closed)."""
    for row in GroupObjectPermission.objects.filter(
        object_pk=str(case.pk),
        content_type__app_label="cases",
        content_type__model="case",
        permission__codename__in=STEP_PERMISSIONS,
    ):
        row.delete()


def grant_step(case, codename: str) -> None:
    """Give the groups acting on this step its permission on the case, and nothing else."""
    revoke_case_grants(case)
    for group in groups_for_step(case, codename):
        assign_perm(f"cases.{codename}", group, case)
