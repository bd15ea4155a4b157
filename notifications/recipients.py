"""Who is told about a case. Every audience ends in `visible_only`: nobody hears of a case outside
their scope as the case policy defines it.

The candidates are conditions on the user table (Q objects, joined with `|`), not lists: the users are
chosen inside the query that reads their memberships, and the policy's scope of each of them is then
evaluated on the case row inside the INSERT of the notifications (outbox.notify_all): an event costs
two queries whatever the number of recipients.

Households have no account, so they are never recipients. If household accounts appear, a protected
case's co-applicant must never be one (shared/visibility.md, "Protected cases"): add that rule in
`visible_only`, the single exit of this module.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from guardian.models import GroupObjectPermission

from cases.models import Case
from permissions.grants import permission_ids
from permissions.models import Membership
from permissions.policy import Action, grants_of, policy
from permissions.roles import Role

NOBODY = Q(pk__in=[])


def users(*people) -> Q:
    """Named users (objects or ids; None ignored)."""
    return Q(pk__in=sorted({getattr(p, "pk", p) for p in people if p is not None}))


@dataclass
class Audience:
    """The users who may see the case among the candidates, and how the INSERT checks it again on the
    case row: `scope` is (a one-row query of the case with one boolean column per distinct scope,
    {user id: its column}) (permissions.policy.CasePolicy.scope_flags)."""

    users: list = field(default_factory=list)
    scope: tuple[QuerySet, dict] | None = None


def visible_only(case, candidates: Q, *, exclude=()) -> Audience:
    """Active users, once each, among `candidates` who may see the case; never the system actor.
    One query (the candidates and their memberships); their scope is evaluated on the case row by the
    INSERT that writes the notifications, in the same statement."""
    excluded = sorted({getattr(u, "pk", u) for u in exclude if u is not None})
    chosen = (
        get_user_model()
        .objects.filter(candidates, is_active=True)
        .exclude(pk__in=excluded)
        .exclude(username=settings.SYSTEM_ACTOR_USERNAME)
        .values("pk")
    )
    people = []
    for user_id, grants in sorted(grants_of(chosen).items()):
        user = get_user_model()(pk=user_id, is_active=True)  # what the policy reads: id and memberships
        user._ppgdid_grants = grants
        people.append(user)
    flags, column_of_user = policy.scope_flags(people, Action.VIEW)
    if not flags:
        return Audience()
    return Audience(
        users=[u for u in people if u.pk in column_of_user],
        scope=(Case.objects.filter(pk=case.pk).values(**flags), column_of_user),
    )


def step_holders(case, codename: str) -> Q:
    """Users of the role groups that hold the step's permission on the case (those who may take it):
    the grant rows are a subquery, the permission id is cached."""
    group_ids = GroupObjectPermission.objects.filter(
        object_pk=str(case.pk),
        content_type=ContentType.objects.get_for_model(Case),
        permission_id=permission_ids()[codename],
    ).values("group_id")
    in_groups = get_user_model().groups.through.objects.filter(group_id__in=group_ids).values("user_id")
    return Q(pk__in=in_groups)


def role_members(organisation_ids, role: str) -> Q:
    organisation_ids = [o for o in organisation_ids if o is not None]
    if not organisation_ids:
        return NOBODY
    members = Membership.objects.filter(organisation_id__in=organisation_ids, role=role, is_active=True)
    return Q(pk__in=members.values("user_id"))


def supervisors(case) -> Q:
    return role_members([case.organisation_id], Role.SUPERVISOR)


def commission_chairs(case) -> Q:
    commune_id = case.household.commune_id
    memberships = Membership.objects.filter(role=Role.COMMISSION_CHAIR, is_active=True).filter(
        Q(communes__insee_code=commune_id) | Q(communes__isnull=True, organisation__communes__insee_code=commune_id)
    )
    return Q(pk__in=memberships.values("user_id"))


def followers(case) -> Q:
    """The people in charge of the case: its referent social worker and their supervisors."""
    return users(case.referent_id) | supervisors(case)


def partners(case) -> Q:
    """Organisations acting on the case after labelling: designated landlord and target réservataire."""
    return role_members([case.designated_landlord_id], Role.LANDLORD_AGENT) | role_members(
        [case.target_reservataire_id], Role.RESERVATAIRE_AGENT
    )


def escalation_targets(case, node_name: str) -> Q:
    """Who hears of a step that stays overdue: the social workers' supervisor for the diagnostic,
    the committee chair (who follows the case once labelled) for the other steps."""
    if node_name == "diagnostic":
        return supervisors(case)
    return commission_chairs(case)
