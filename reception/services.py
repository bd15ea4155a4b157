"""The writes of the reception network. Each runs in one transaction acting as its actor (history user
and reason), re-checks the actor's reach, and raises a French ValidationError on bad input.

Opening a case from a referral goes through the workflow service that flags a household
(workflows.services.household_flag): this module never writes a case itself.
"""

import re
import secrets
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.chain import chained_at_end
from cases.audit import acting_as
from cases.choices import PriorityCriterion
from cases.models import Organisation
from permissions.policy import Action, log_denial, policy
from permissions.roles import SOCIAL_WORK_ROLES
from workflows.services import household_flag

from . import access
from .choices import CodeChannel, PreFlagSource, PreFlagStatus, Topic
from .models import Contact, ContactTopic, Desk, HouseholdAccess, PreFlag, ScriptEntry, ScriptVersion

ACCESS_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or on paper
ACCESS_CODE_LENGTH = 12
ACCESS_VALID_DAYS = 365
MOBILE = re.compile(r"^(?:\+33|0)[67]\d{8}$")


@contextmanager
def audited(actor, reason: str):
    with transaction.atomic(), acting_as(actor, reason), chained_at_end():
        yield


def _deny(actor, action: str, kind: str, pk):
    log_denial(actor, action, kind, pk)
    raise PermissionDenied


# --- desks -----------------------------------------------------------------------------------------


def desk_save(*, actor, desk: Desk) -> Desk:
    """Create or change a desk of a network the actor manages (network head, territory admin)."""
    managed = access.managed_networks(actor)
    if not managed.filter(pk=desk.network_id).exists():
        _deny(actor, "desk_save", "network", desk.network_id)
    if desk.pk and not access.managed_desks(actor).filter(pk=desk.pk).exists():
        _deny(actor, "desk_save", "desk", desk.pk)
    with audited(actor, _("Lieu d'accueil modifié") if desk.pk else _("Lieu d'accueil ajouté")):
        desk.full_clean()
        desk.save()
    return desk


# --- the shared information script -----------------------------------------------------------------


def published_script(network) -> ScriptVersion | None:
    return network.script_versions.filter(published_at__isnull=False).order_by("-number").first()


def script_draft(*, actor, network) -> ScriptVersion:
    """The network's draft, created from the latest published version when there is none."""
    if not access.headed_networks(actor).filter(pk=network.pk).exists():
        _deny(actor, "script_draft", "network", network.pk)
    with audited(actor, _("Nouvelle version du référentiel")):
        type(network).objects.select_for_update().get(pk=network.pk)
        draft = network.script_versions.filter(published_at__isnull=True).first()
        if draft is not None:
            return draft
        draft = ScriptVersion.objects.create(network=network, created_by=actor)
        current = published_script(network)
        if current is not None:
            for entry in current.entries.all():
                entry.pk = None
                entry.version = draft
                entry.save()
    return draft


def _require_draft(actor, version: ScriptVersion) -> None:
    if not access.headed_networks(actor).filter(pk=version.network_id).exists():
        _deny(actor, "script_edit", "script", version.pk)
    if version.is_published:
        raise ValidationError(_("Une version publiée ne se modifie plus : créez une nouvelle version."))


def _locked_version(version_id) -> ScriptVersion:
    # Read under lock: a version published meanwhile (or an object read before) must not be edited.
    return ScriptVersion.objects.select_for_update().get(pk=version_id)


def script_entry_save(*, actor, entry: ScriptEntry) -> ScriptEntry:
    with audited(actor, _("Fiche du référentiel modifiée")):
        _require_draft(actor, _locked_version(entry.version_id))
        entry.full_clean()
        entry.save()
    return entry


def script_entry_delete(*, actor, entry: ScriptEntry) -> None:
    with audited(actor, _("Fiche du référentiel supprimée")):
        _require_draft(actor, _locked_version(entry.version_id))
        entry.delete()


def script_publish(*, actor, version: ScriptVersion, note: str) -> ScriptVersion:
    """Publish the draft: next version number, today's date; it is read at every desk from now on."""
    with audited(actor, _("Référentiel publié")):
        version = _locked_version(version.pk)
        _require_draft(actor, version)
        if not version.entries.exists():
            raise ValidationError(_("Le brouillon ne contient aucune fiche : rien à publier."))
        if not note.strip():
            raise ValidationError({"note": _("Indiquez ce qui change dans cette version.")})
        last = ScriptVersion.objects.filter(network_id=version.network_id).aggregate(n=Max("number"))["n"] or 0
        version.number = last + 1
        version.note = note.strip()
        version.published_at = timezone.now()
        version.published_by = actor
        version.save()
    return version


# --- information delivered -------------------------------------------------------------------------


def contact_record(*, actor, desk: Desk, on, channel: str, topics, referral: PreFlag | None = None) -> Contact:
    """One contact at a desk: date, desk (and its level), topics, channel. No personal data."""
    if not access.contact_desks(actor).filter(pk=desk.pk).exists():
        _deny(actor, "contact_record", "desk", desk.pk)
    topics = [t for t in dict.fromkeys(topics) if t in Topic.values]
    if not topics:
        raise ValidationError({"topics": _("Cochez au moins un thème abordé.")})
    if on > timezone.localdate():
        raise ValidationError({"on": _("La date ne peut pas être dans le futur.")})
    with audited(actor, _("Information délivrée")):
        contact = Contact(desk=desk, on=on, level=desk.level, channel=channel, referral=referral, recorded_by=actor)
        contact.full_clean()
        contact.save()
        for topic in topics:
            ContactTopic.objects.create(contact=contact, topic=topic)
    return contact


# --- referral: pre-flag, then confirmation through the workflow service ----------------------------


def referral_targets():
    """Organisations a person may be referred to: those with an active social worker."""
    return Organisation.objects.filter(memberships__role__in=SOCIAL_WORK_ROLES, memberships__is_active=True).distinct()


def preflag_create(*, actor, preflag: PreFlag, channel: str, topics) -> PreFlag:
    """A referral made at reception: the pre-flag and the contact that records it, together."""
    if not access.contact_desks(actor).filter(pk=preflag.desk_id).exists():
        _deny(actor, "preflag_create", "desk", preflag.desk_id)
    if not referral_targets().filter(pk=preflag.target_organisation_id).exists():
        raise ValidationError(
            {"target_organisation": _("Cette organisation n'a pas de travailleur social pour recevoir l'orientation.")}
        )
    preflag.criteria = [c for c in dict.fromkeys(preflag.criteria) if c in PriorityCriterion.values]
    if not (preflag.phone or preflag.email):
        raise ValidationError(_("Indiquez un téléphone ou un courriel pour que le travailleur social rappelle."))
    with audited(actor, _("Orientation vers un travailleur social")):
        preflag.created_by = actor
        preflag.status = PreFlagStatus.PENDING
        preflag.full_clean()
        preflag.save()
        contact_record(
            actor=actor,
            desk=preflag.desk,
            on=timezone.localdate(),
            channel=channel,
            topics=[*topics, Topic.PRIORITY],
            referral=preflag,
        )
    return preflag


def preflag_receive(*, actor, preflag: PreFlag, reason: str) -> PreFlag:
    """A referral received from the SIAO (exchanges.siao): a pre-flag without a desk, with the
    referring structure and the SIAO's reference. The actor imports the referrals of its territory
    (territory administrator); the social workers of the organisation named by the referral decide."""
    if preflag.commune_id not in access.referral_import_communes(actor):
        _deny(actor, "preflag_receive", "commune", preflag.commune_id)
    if not referral_targets().filter(pk=preflag.target_organisation_id).exists():
        raise ValidationError(
            {"target_organisation": _("Cette organisation n'a pas de travailleur social pour recevoir l'orientation.")}
        )
    preflag.criteria = [c for c in dict.fromkeys(preflag.criteria) if c in PriorityCriterion.values]
    with audited(actor, reason or _("Orientation reçue du SIAO")):
        preflag.source = PreFlagSource.SIAO
        preflag.desk = None
        preflag.created_by = actor
        preflag.status = PreFlagStatus.PENDING
        preflag.full_clean()
        preflag.save()
    return preflag


def _lock_pending(actor, preflag: PreFlag) -> PreFlag:
    locked = access.deciding_preflags(actor).select_for_update().filter(pk=preflag.pk).first()
    if locked is None:
        _deny(actor, "preflag_decide", "preflag", preflag.pk)
    if locked.status != PreFlagStatus.PENDING:
        raise ValidationError(_("Ce pré-signalement a déjà été examiné."))
    return locked


def preflag_confirm(
    *, actor, preflag: PreFlag, household, members=(), criteria, is_protected=False, is_dalo=False, comed_date=None
):
    """The social worker confirms: the household is registered and its case opened by the workflow
    service (workflows.services.household_flag), in the same transaction as the pre-flag's decision."""
    with audited(actor, _("Pré-signalement confirmé")):
        preflag = _lock_pending(actor, preflag)
        case = household_flag(
            actor=actor,
            household=household,
            members=members,
            organisation=preflag.target_organisation,
            criteria=criteria,
            is_protected=is_protected,
            is_dalo=is_dalo,
            comed_decision_date=comed_date,
        )
        preflag.status = PreFlagStatus.CONFIRMED
        preflag.case = case
        preflag.decided_by = actor
        preflag.decided_at = timezone.now()
        preflag.save()
    return case


def preflag_decline(*, actor, preflag: PreFlag, reason: str) -> PreFlag:
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez pourquoi le pré-signalement est décliné.")})
    with audited(actor, _("Pré-signalement décliné")):
        preflag = _lock_pending(actor, preflag)
        preflag.status = PreFlagStatus.DECLINED
        preflag.decline_reason = reason.strip()
        preflag.decided_by = actor
        preflag.decided_at = timezone.now()
        preflag.save()
    return preflag


# --- the household's access to its own view -------------------------------------------------------


def new_access_code() -> str:
    raw = "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _i in range(ACCESS_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, ACCESS_CODE_LENGTH, 4))


def normalise_code(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


def clean_destination(channel: str, destination: str) -> str:
    destination = (destination or "").strip()
    if channel == CodeChannel.EMAIL:
        try:
            validate_email(destination)
        except ValidationError:
            raise ValidationError({"destination": _("Saisissez une adresse électronique valide.")}) from None
        return destination
    number = re.sub(r"[\s.-]", "", destination)
    if not MOBILE.match(number):
        raise ValidationError({"destination": _("Saisissez un numéro de mobile français (06 ou 07, 10 chiffres).")})
    return number


def access_issue(*, actor, case, holder: str, channel: str, destination: str, desk: Desk | None = None):
    """Hand a personal access code for the household's own view. Returns (access, code): the code is
    shown once and stored hashed. Needs the right to change the case (its referent organisation)."""
    if not policy.can(actor, Action.CHANGE, case) or not case.is_open:
        _deny(actor, "access_issue", "case", case.pk)
    if channel not in CodeChannel.values:
        raise ValidationError({"channel": _("Choisissez le courriel ou le SMS.")})
    destination = clean_destination(channel, destination)
    code = new_access_code()
    with audited(actor, _("Code d'accès remis au ménage")):
        item = HouseholdAccess(
            case=case,
            holder=(holder or "").strip() or "Le ménage",
            channel=channel,
            destination=destination,
            code_hash=make_password(normalise_code(code)),
            desk=desk,
            created_by=actor,
            expires_at=timezone.now() + timedelta(days=ACCESS_VALID_DAYS),
        )
        item.full_clean()
        item.save()
    return item, code


def access_revoke(*, actor, item: HouseholdAccess) -> HouseholdAccess:
    if not policy.can(actor, Action.CHANGE, item.case):
        _deny(actor, "access_revoke", "household_access", item.pk)
    with audited(actor, _("Code d'accès du ménage révoqué")):
        item = HouseholdAccess.objects.select_for_update().get(pk=item.pk)
        if item.revoked_at is None:
            item.revoked_at = timezone.now()
            item.save()
    return item
