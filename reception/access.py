"""Who may do what in the reception network. Deny by default; the selectors return querysets so a
page asks for one object within the user's reach and gets a 404 (logged) otherwise.

- network head: the networks its organisation heads (desks, script, statistics);
- territory administrator: the networks and desks of its territory (desks and statistics);
- reception agent, social worker, supervisor: record contacts at their organisation's desks, read
  the script of the networks of their territory, orient a person (orientation);
- social worker, supervisor: confirm or decline the pre-flags sent to their organisation, hand an
  access code to a household of a case they may change (the case policy decides).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from permissions.policy import log_denial, memberships_of
from permissions.roles import SOCIAL_WORK_ROLES, Role

from .models import Desk, Network, PreFlag

FRONT_DESK_ROLES = (Role.RECEPTION, Role.SOCIAL_WORKER, Role.SUPERVISOR)
SCRIPT_READERS = (*FRONT_DESK_ROLES, Role.NETWORK_HEAD, Role.TERRITORY_ADMIN)


def _orgs(user, roles) -> set[int]:
    return {g.organisation_id for g in memberships_of(user) if g.role in roles}


def _communes(user, roles) -> set[str]:
    return {code for g in memberships_of(user) if g.role in roles for code in g.commune_ids}


def has_role(user, *roles) -> bool:
    return any(g.role in roles for g in memberships_of(user))


def managed_networks(user) -> QuerySet:
    """Networks whose desks and statistics the user manages: headed by its organisation, or (territory
    administrator) with a commune in its territory."""
    headed = _orgs(user, (Role.NETWORK_HEAD,))
    territory = _communes(user, (Role.TERRITORY_ADMIN,))
    if not headed and not territory:
        return Network.objects.none()
    in_territory = Network.objects.filter(communes__insee_code__in=territory).values("pk")
    return Network.objects.filter(Q(head_organisation_id__in=headed) | Q(pk__in=in_territory))


def headed_networks(user) -> QuerySet:
    """Networks whose script the user writes (network heads only)."""
    return Network.objects.filter(head_organisation_id__in=_orgs(user, (Role.NETWORK_HEAD,)))


def readable_networks(user) -> QuerySet:
    """Networks whose internal script the user reads: those of its territory, and those it heads."""
    territory = _communes(user, SCRIPT_READERS)
    headed = _orgs(user, (Role.NETWORK_HEAD,))
    in_territory = Network.objects.filter(communes__insee_code__in=territory).values("pk")
    return Network.objects.filter(Q(pk__in=in_territory) | Q(head_organisation_id__in=headed))


def managed_desks(user) -> QuerySet:
    return Desk.objects.filter(network__in=managed_networks(user))


def contact_desks(user) -> QuerySet:
    """The open desks where the user receives people (those of its organisations)."""
    return Desk.objects.filter(is_active=True, organisation_id__in=_orgs(user, FRONT_DESK_ROLES))


def can_orient(user) -> bool:
    return has_role(user, *FRONT_DESK_ROLES)


def referral_import_communes(user) -> set[str]:
    """The communes whose SIAO referrals the user imports (territory administrators)."""
    return _communes(user, (Role.TERRITORY_ADMIN,))


def deciding_preflags(user) -> QuerySet:
    """Pre-flags the user may confirm or decline: those sent to its social-work organisations, made at
    a desk or referred by the SIAO (the referral names the organisation)."""
    return PreFlag.objects.filter(target_organisation_id__in=_orgs(user, SOCIAL_WORK_ROLES))


def visible_preflags(user) -> QuerySet:
    """Pre-flags listed to the user: those it decides, and those made at its organisation's desks."""
    return PreFlag.objects.filter(
        Q(target_organisation_id__in=_orgs(user, SOCIAL_WORK_ROLES))
        | Q(desk__organisation_id__in=_orgs(user, FRONT_DESK_ROLES))
    )


def object_or_404(request, queryset, pk, kind: str):
    """The object if within reach, else a 404 and a logged denial (ids only)."""
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        log_denial(request, "view", kind, pk)
        raise Http404 from None


def require(request, allowed: bool, what: str) -> None:
    """A page outside the user's roles: 403 (the page is not for them; no object is confirmed), logged."""
    if not allowed:
        log_denial(request, "view", "page", what)
        raise PermissionDenied
