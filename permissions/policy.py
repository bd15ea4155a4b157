"""The case policy: one object answers "may this user do this on this case?" and "which cases?".

Every page, form, export, API endpoint and notification asks it. Deny by default: a user with no
active membership sees nothing. Scope is computed from memberships in one query (no per-row checks).
"""

import logging
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from .roles import COMMISSION_ROLES, Role

log = logging.getLogger("ppgdid.access")


class Action:
    VIEW = "view"
    CHANGE = "change"  # household and case data, criteria, protection flag
    CLOSE = "close"


# Which roles may do which action on a case in their scope.
ACTION_ROLES = {
    Action.VIEW: set(Role) - {Role.TERRITORY_ADMIN, Role.SYSTEM_ADMIN},
    Action.CHANGE: {Role.SOCIAL_WORKER, Role.SUPERVISOR},
    Action.CLOSE: {Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.COMMISSION_CHAIR},
}


@dataclass(frozen=True)
class Grant:
    role: str
    organisation_id: int
    commune_ids: frozenset


def memberships_of(user) -> list[Grant]:
    """The user's active memberships, loaded once per user object (one query)."""
    cached = getattr(user, "_ppgdid_grants", None)
    if cached is not None:
        return cached
    from .models import Membership

    grants: dict[int, Grant] = {}
    rows = Membership.objects.filter(user=user, is_active=True).values_list(
        "pk", "role", "organisation_id", "communes__insee_code", "organisation__communes__insee_code"
    )
    communes: dict[int, set] = {}
    for pk, role, org_id, own_commune, org_commune in rows:
        grants.setdefault(pk, Grant(role, org_id, frozenset()))
        bucket = communes.setdefault(pk, {"own": set(), "org": set()})
        if own_commune:
            bucket["own"].add(own_commune)
        if org_commune:
            bucket["org"].add(org_commune)
    result = [
        Grant(g.role, g.organisation_id, frozenset(communes[pk]["own"] or communes[pk]["org"]))
        for pk, g in grants.items()
    ]
    user._ppgdid_grants = result
    return result


def roles_of(user) -> set[str]:
    return {g.role for g in memberships_of(user)}


class CasePolicy:
    def _scope_q(self, user, grant: Grant) -> Q | None:
        from cases.choices import CaseStatus
        from cases.models import Proposal

        if grant.role == Role.AUDITOR:
            return Q()
        if grant.role == Role.SOCIAL_WORKER:
            return Q(organisation_id=grant.organisation_id) | Q(referent_id=user.pk)
        if grant.role in (Role.SUPERVISOR, Role.RECEPTION):
            return Q(organisation_id=grant.organisation_id)
        if grant.role in COMMISSION_ROLES:
            in_territory = Q(household__commune_id__in=grant.commune_ids)
            awaiting = Q(status=CaseStatus.COMMITTEE)
            decided = Q(committee_reviews__isnull=False)
            return in_territory & (awaiting | decided)
        if grant.role == Role.LANDLORD_AGENT:
            own_proposal = Exists(
                Proposal.objects.filter(case=OuterRef("pk"), dwelling__landlord_id=grant.organisation_id)
            )
            return Q(designated_landlord_id=grant.organisation_id) | own_proposal
        if grant.role == Role.RESERVATAIRE_AGENT:
            return Q(target_reservataire_id=grant.organisation_id)
        return None

    def queryset_for(self, user, action: str = Action.VIEW) -> QuerySet:
        from cases.models import Case

        if not user or not user.is_authenticated:
            return Case.objects.none()
        if user.is_superuser:
            return Case.objects.all()
        allowed_roles = ACTION_ROLES.get(action, set())
        q = None
        for grant in memberships_of(user):
            if grant.role not in allowed_roles:
                continue
            grant_q = self._scope_q(user, grant)
            if grant_q is None:
                continue
            if grant_q == Q():
                return Case.objects.all()
            q = grant_q if q is None else q | grant_q
        if q is None:
            return Case.objects.none()
        # Filtering on the primary keys of a subquery keeps joins from duplicating rows.
        return Case.objects.filter(pk__in=Case.objects.filter(q).values("pk"))

    def can(self, user, action: str, case) -> bool:
        return self.queryset_for(user, action).filter(pk=case.pk).exists()


policy = CasePolicy()


def log_denial(request_or_user, action: str, obj_type: str, obj_id) -> None:
    """Record a refused access without personal data: ids only."""
    user = getattr(request_or_user, "user", request_or_user)
    request_id = getattr(request_or_user, "request_id", "-")
    log.warning(
        "access denied user_id=%s action=%s object=%s:%s request_id=%s",
        getattr(user, "pk", None),
        action,
        obj_type,
        obj_id,
        request_id,
    )
