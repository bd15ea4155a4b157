"""Writes of the access model: memberships, protection flag, sharing decisions, break-the-glass.

Same shape as workflows.services: one transaction, lock the row, re-check the permission after the
lock, record actor and reason on the history row (cases.audit.acting_as).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.audit import acting_as
from cases.models import Case, Organisation

from . import events
from .grants import sync_case_grants
from .models import BreakGlassAccess, CaseShare, Delegation, Membership, forget_memberships
from .policy import Action, log_denial, memberships_of, policy
from .reads import log_break_glass
from .roles import Role
from .visibility import PROTECTED_CATEGORIES, case_access

log = logging.getLogger("ppgdid.access")

# Roles only a system administrator may hand out: they manage access or read everything.
ADMIN_ONLY_ROLES = {Role.TERRITORY_ADMIN, Role.AUDITOR, Role.SYSTEM_ADMIN}


def _lock(queryset, pk):
    if connection.vendor == "postgresql":
        queryset = queryset.select_for_update(of=("self",), no_key=True)
    else:
        queryset = queryset.select_for_update()
    return queryset.get(pk=pk)


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationError({field: _("Indiquez le motif (quelques mots au moins).")})
    return reason


# --- who administers memberships --------------------------------------------------------------------


def is_system_admin(user) -> bool:
    # The Django superuser flag counts here only: it bootstraps the first memberships.
    return user.is_authenticated and (
        user.is_superuser or any(g.role == Role.SYSTEM_ADMIN for g in memberships_of(user))
    )


def admin_territory(user) -> set[str]:
    """Communes a territory administrator manages (empty: none)."""
    return set().union(*(g.commune_ids for g in memberships_of(user) if g.role == Role.TERRITORY_ADMIN))


def can_manage_memberships(user) -> bool:
    return is_system_admin(user) or bool(admin_territory(user))


def manageable_memberships(user):
    """Memberships the user may see and change on the administration pages.

    A territory administrator manages the memberships whose territory lies entirely inside theirs
    (own communes, or else the organisation's), never their own and never administrator or auditor
    roles; a system administrator manages all but their own.
    """

    if is_system_admin(user):
        return Membership.objects.exclude(user=user)
    territory = admin_territory(user)
    if not territory:
        return Membership.objects.none()
    own = Membership.communes.through.objects.filter(membership_id=OuterRef("pk"))
    org = Organisation.communes.through.objects.filter(organisation_id=OuterRef("organisation_id"))
    return (
        Membership.objects.exclude(user=user)
        .exclude(role__in=ADMIN_ONLY_ROLES)
        .filter(Exists(org.filter(commune_id__in=territory)))
        .exclude(Exists(own.exclude(commune_id__in=territory)))
        .exclude(~Exists(own) & Exists(org.exclude(commune_id__in=territory)))
    )


def manageable_organisations(user):

    if is_system_admin(user):
        return Organisation.objects.all()
    territory = admin_territory(user)
    return Organisation.objects.filter(communes__insee_code__in=territory).distinct()


def grantable_roles(user) -> list[str]:
    if is_system_admin(user):
        return list(Role.values)
    if admin_territory(user):
        return [r for r in Role.values if r not in ADMIN_ONLY_ROLES]
    return []


def membership_create(*, actor, user, organisation, role: str, communes=(), reason: str) -> Membership:
    """Give `user` a role in `organisation` (or reactivate it), within the actor's powers."""
    reason = _require_reason(reason)
    communes = list(communes)
    if not can_manage_memberships(actor):
        log_denial(actor, "membership_create", "organisation", organisation.pk)
        raise PermissionDenied
    errors = {}
    if user.pk == actor.pk:
        errors["user"] = _("Vous ne pouvez pas modifier vos propres habilitations.")
    if role not in grantable_roles(actor):
        errors["role"] = _("Vous ne pouvez pas attribuer ce rôle.")
    if not is_system_admin(actor):
        territory = admin_territory(actor)
        if not manageable_organisations(actor).filter(pk=organisation.pk).exists():
            errors["organisation"] = _("Cette organisation n'intervient pas sur votre territoire.")
        outside = [c for c in communes if c.pk not in territory]
        if outside:
            errors["communes"] = _("Ces communes sont hors de votre territoire : %(names)s.") % {
                "names": ", ".join(c.name for c in outside)
            }
        org_outside = organisation.communes.exclude(insee_code__in=territory).exists()
        if not communes and org_outside:
            errors["communes"] = _(
                "L'organisation couvre des communes hors de votre territoire : choisissez les communes du rattachement."
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), acting_as(actor, reason):
        membership = Membership.objects.filter(user=user, organisation=organisation, role=role).first()
        if membership is None:
            membership = Membership(user=user, organisation=organisation, role=role)
        else:
            membership = _lock(Membership.objects.all(), membership.pk)
        membership.is_active = True
        membership.save()
        membership.communes.set(communes)
    forget_memberships(user)
    return membership


def membership_deactivate(*, actor, membership: Membership, reason: str) -> Membership:
    reason = _require_reason(reason)
    with transaction.atomic(), acting_as(actor, reason):
        membership = _lock(Membership.objects.all(), membership.pk)
        if not manageable_memberships(actor).filter(pk=membership.pk).exists():
            log_denial(actor, "membership_deactivate", "membership", membership.pk)
            raise PermissionDenied
        if membership.is_active:
            membership.is_active = False
            membership.save()
    forget_memberships(membership.user)
    return membership


# --- protected cases --------------------------------------------------------------------------------


def _lock_case(case_id):

    return _lock(Case.objects.select_related("household"), case_id)


def case_protect(*, actor, case, is_protected: bool, reason: str):
    """Set or lift the protection of a case (violence victims, or on request)."""
    reason = _require_reason(reason)
    with transaction.atomic(), acting_as(actor, reason):
        case = _lock_case(case.pk)
        if not policy.can(actor, Action.PROTECT, case):
            log_denial(actor, Action.PROTECT, "case", case.pk)
            raise PermissionDenied
        if case.is_protected != is_protected:
            case.is_protected = is_protected
            case.save(update_fields=["is_protected"])
    return case


def break_glass_minutes() -> int:
    return int(getattr(settings, "PPGDID_BREAK_GLASS_MINUTES", 60))


def break_glass_open(*, actor, case, reason: str) -> BreakGlassAccess:
    """A supervisor or auditor opens the masked data of a protected case: logged, referent notified."""
    reason = _require_reason(reason)
    with transaction.atomic(), acting_as(actor, "Accès exceptionnel"):
        case = _lock_case(case.pk)
        if not case.is_protected or not policy.can(actor, Action.BREAK_GLASS, case):
            log_denial(actor, Action.BREAK_GLASS, "case", case.pk)
            raise PermissionDenied
        access = BreakGlassAccess.objects.create(
            case=case,
            user=actor,
            reason=reason,
            expires_at=timezone.now() + timedelta(minutes=break_glass_minutes()),
        )
        log_break_glass(actor, case, reason)
        events.break_glass_opened.send(
            sender=BreakGlassAccess, case=case, actor=actor, reason=reason, event_id=access.pk
        )
    log.warning("break glass user_id=%s case_id=%s access_id=%s", actor.pk, case.pk, access.pk)
    return access


# --- sharing decisions -----------------------------------------------------------------------------


def case_share_create(*, actor, case, category: str, organisation, reason: str, ends_on) -> CaseShare:
    """Share one hidden category of one case with one organisation, until `ends_on`."""
    reason = _require_reason(reason)
    errors = {}
    if ends_on is None or ends_on < timezone.localdate():
        errors["ends_on"] = _("La date de fin doit être aujourd'hui ou plus tard.")
    elif ends_on > timezone.localdate() + timedelta(days=366):
        errors["ends_on"] = _("Un partage dure au plus un an : renouvelez-le si besoin.")
    with transaction.atomic(), acting_as(actor, reason):
        case = _lock_case(case.pk)
        if not policy.can(actor, Action.SHARE, case):
            log_denial(actor, Action.SHARE, "case", case.pk)
            raise PermissionDenied
        if case.is_protected and category in PROTECTED_CATEGORIES:
            errors["category"] = _("Dossier protégé : l'adresse et les coordonnées ne peuvent pas être partagées.")
        if errors:
            raise ValidationError(errors)
        share = CaseShare(
            case=case, category=category, organisation=organisation, reason=reason, ends_on=ends_on, created_by=actor
        )
        share.full_clean()
        share.save()
    return share


def case_share_revoke(*, actor, share: CaseShare, reason: str) -> CaseShare:
    reason = _require_reason(reason)
    with transaction.atomic(), acting_as(actor, reason):
        share = _lock(CaseShare.objects.select_related("case"), share.pk)
        if not policy.can(actor, Action.SHARE, share.case):
            log_denial(actor, "share_revoke", "caseshare", share.pk)
            raise PermissionDenied
        if share.revoked_at is None:
            share.revoked_at = timezone.now()
            share.revoked_by = actor
            share.save()
    return share


def shares_visible_to(user, case):
    """Sharing decisions shown on a case: all of them to its social workers, supervisors and auditors;
    to a partner, those made with its own organisations."""
    access = case_access(user, case)
    if not access.roles:
        return CaseShare.objects.none()
    shares = CaseShare.objects.filter(case=case).select_related("organisation", "created_by")
    if access.roles & {Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.AUDITOR}:
        return shares
    orgs = {g.organisation_id for g in policy.reaching_grants(user, case)}
    return shares.filter(organisation_id__in=orgs)


# --- designation ------------------------------------------------------------------------------------


def designation_end(*, actor, case, reason: str):
    """End the designation of a landlord: its agents lose their grants at once."""
    reason = _require_reason(reason)
    with transaction.atomic(), acting_as(actor, reason):
        case = _lock_case(case.pk)
        if not policy.can(actor, Action.CLOSE, case):
            log_denial(actor, "designation_end", "case", case.pk)
            raise PermissionDenied
        case.designated_landlord = None
        case.save(update_fields=["designated_landlord"])
        sync_case_grants(case)
    return case


# --- delegation during an absence ------------------------------------------------------------------


def delegate_candidates(user):
    """The colleagues `user` may name as delegate: active members of one of their organisations with
    one of the roles they hold there (the same job, hence the same step grants), themselves excepted."""
    pairs = Q()
    for grant in memberships_of(user):
        pairs |= Q(memberships__organisation_id=grant.organisation_id, memberships__role=grant.role)
    if not pairs:
        return get_user_model().objects.none()
    return (
        get_user_model()
        .objects.filter(pairs, is_active=True, memberships__is_active=True)
        .exclude(pk=user.pk)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def _shared_organisation(delegator, delegate) -> int | None:
    """The first organisation where the delegate holds one of the delegator's roles, or None."""
    mine = {(g.organisation_id, g.role) for g in memberships_of(delegator)}
    theirs = {(g.organisation_id, g.role) for g in memberships_of(delegate)}
    shared = sorted(org for org, _role in mine & theirs)
    return shared[0] if shared else None


def delegation_create(*, actor, delegate, starts_on, ends_on, reason: str) -> Delegation:
    """`actor` names `delegate` to stand in for them from `starts_on` to `ends_on` (inclusive)."""
    reason = _require_reason(reason)
    if starts_on is None or ends_on is None:
        raise ValidationError({"ends_on": _("Indiquez les dates de début et de fin de l'absence.")})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("La date de fin doit être le jour du début ou après.")})
    if ends_on < timezone.localdate():
        raise ValidationError({"ends_on": _("Cette période est déjà passée.")})
    if delegate is None or delegate.pk == actor.pk or not delegate.is_active:
        raise ValidationError({"delegate": _("Choisissez une autre personne de votre organisation.")})
    organisation_id = _shared_organisation(actor, delegate)
    if organisation_id is None:
        log_denial(actor, "delegate", "user", delegate.pk)
        raise ValidationError(
            {"delegate": _("Cette personne n'exerce pas les mêmes fonctions que vous dans votre organisation.")}
        )
    with transaction.atomic(), acting_as(actor, "Délégation pendant une absence"):
        delegation = Delegation.objects.create(
            delegator=actor,
            delegate=delegate,
            organisation_id=organisation_id,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
        )
    log.info("delegation created id=%s by user_id=%s", delegation.pk, actor.pk)
    return delegation


def delegation_revoke(*, actor, delegation: Delegation) -> Delegation:
    """The delegator ends their delegation before its end date."""
    with transaction.atomic(), acting_as(actor, "Fin de la délégation"):
        delegation = _lock(Delegation.objects.all(), delegation.pk)
        if delegation.delegator_id != actor.pk:
            log_denial(actor, "delegation_revoke", "delegation", delegation.pk)
            raise PermissionDenied
        if delegation.revoked_at is None:
            delegation.revoked_at = timezone.now()
            delegation.revoked_by = actor
            delegation.save()
    return delegation
