"""Who is told about a case. Every list ends in `visible_only`: nobody hears of a case outside
their scope as the case policy defines it.

Households have no account, so they are never recipients. If household accounts appear, a protected
case's co-applicant must never be one (shared/visibility.md, "Protected cases"): add that rule in
`visible_only`, the single exit of this module.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from guardian.models import GroupObjectPermission

from cases.models import Case
from permissions.grants import permission_ids
from permissions.models import Membership
from permissions.policy import Action, policy
from permissions.roles import Role


def visible_only(case, users, *, exclude=()) -> list:
    """Active users, once each, who may see the case; never the system actor."""
    excluded = {getattr(u, "pk", u) for u in exclude}
    candidates = {}
    for user in users:
        if user is None or user.pk in excluded or user.username == settings.SYSTEM_ACTOR_USERNAME:
            continue
        candidates.setdefault(user.pk, user)
    return sorted(policy.users_who_can(candidates.values(), Action.VIEW, case), key=lambda u: u.pk)


def _users(**filters):
    return list(get_user_model().objects.filter(is_active=True, **filters).distinct().order_by("pk"))


def step_holders(case, codename: str) -> list:
    """Users of the role groups that hold the step's permission on the case (those who may take it):
    one query (the grant rows are a subquery, the permission id is cached)."""
    group_ids = GroupObjectPermission.objects.filter(
        object_pk=str(case.pk),
        content_type=ContentType.objects.get_for_model(Case),
        permission_id=permission_ids()[codename],
    ).values("group_id")
    return _users(groups__in=group_ids)


def role_members(organisation_ids, role: str) -> list:
    return _users(
        memberships__organisation_id__in=list(organisation_ids),
        memberships__role=role,
        memberships__is_active=True,
    )


def supervisors(case) -> list:
    return role_members([case.organisation_id], Role.SUPERVISOR)


def commission_chairs(case) -> list:
    commune_id = case.household.commune_id
    memberships = Membership.objects.filter(role=Role.COMMISSION_CHAIR, is_active=True).filter(
        Q(communes__insee_code=commune_id) | Q(communes__isnull=True, organisation__communes__insee_code=commune_id)
    )
    return _users(pk__in=list(memberships.values_list("user_id", flat=True)))


def followers(case) -> list:
    """The people in charge of the case: its referent social worker and their supervisors."""
    return [case.referent, *supervisors(case)]


def partners(case) -> list:
    """Organisations acting on the case after labelling: designated landlord and target réservataire."""
    users = []
    if case.designated_landlord_id:
        users += role_members([case.designated_landlord_id], Role.LANDLORD_AGENT)
    if case.target_reservataire_id:
        users += role_members([case.target_reservataire_id], Role.RESERVATAIRE_AGENT)
    return users


def escalation_targets(case, node_name: str) -> list:
    """Who hears of a step that stays overdue: the social workers' supervisor for the diagnostic,
    the committee chair (who follows the case once labelled) for the other steps."""
    if node_name == "diagnostic":
        return supervisors(case)
    return commission_chairs(case)
