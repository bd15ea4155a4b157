"""Clock pauses: while a case waits on the household or on a document, its step clock stops.

Each pause and resume is a history row (actor and reason) on ClockPause.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import get_perms

from cases import offers
from cases.audit import acting_as
from cases.models import Case, ClockPause, Proposal
from permissions.grants import STEP_PERMISSIONS
from permissions.policy import Action, log_denial, policy


def _lock(case_id: int) -> Case:
    qs = Case.objects.all()
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(of=("self",), no_key=True)
    else:
        qs = qs.select_for_update()
    return qs.get(pk=case_id)


def can_pause(actor, case) -> bool:
    """Who acts on the case now (holds the open step's grant) or may change it (social workers)."""
    if not policy.can(actor, Action.VIEW, case):
        return False
    if policy.can(actor, Action.CHANGE, case):
        return True
    return any(perm in STEP_PERMISSIONS for perm in get_perms(actor, case))


def _check(actor, case, action: str) -> None:
    if not can_pause(actor, case):
        log_denial(actor, action, "case", case.pk)
        raise PermissionDenied


def clock_pause(*, actor, case, reason: str, comment: str = "") -> ClockPause:
    if reason not in ClockPause.Reason.values:
        raise ValidationError({"reason": _("Choisissez pourquoi le délai est suspendu.")})
    with transaction.atomic(), acting_as(actor, "Suspension du délai"):
        case = _lock(case.pk)
        _check(actor, case, "clock_pause")
        if not case.is_open:
            raise ValidationError(_("Ce dossier est clos : son délai ne peut plus être suspendu."))
        if ClockPause.objects.filter(case=case, ended_at__isnull=True).exists():
            raise ValidationError(_("Le délai de ce dossier est déjà suspendu."))
        pause = ClockPause(
            case=case, reason=reason, comment=comment.strip(), started_at=timezone.now(), started_by=actor
        )
        pause.full_clean()
        pause.save()
    return pause


def clock_resume(*, actor, case) -> ClockPause:
    with transaction.atomic(), acting_as(actor, "Reprise du délai"):
        case = _lock(case.pk)
        _check(actor, case, "clock_resume")
        pause = ClockPause.objects.filter(case=case, ended_at__isnull=True).first()
        if pause is None:
            raise ValidationError(_("Le délai de ce dossier n'est pas suspendu."))
        pause.ended_at = timezone.now()
        pause.ended_by = actor
        pause.save()
    return pause


def offer_delivery_record(*, actor, proposal, registered_letter: bool, delivered_on=None):
    """Say how the offer reached the household; with a registered letter the reply clock starts at
    delivery (or at the first failed delivery attempt). Stored on the proposal, whose reply deadline
    is recomputed by the one rule (cases/deadlines.py)."""
    with transaction.atomic(), acting_as(actor, "Remise de l'offre au ménage"):
        case = _lock(proposal.case_id)
        if not (policy.can(actor, Action.VIEW, case) and "record_reply" in get_perms(actor, case)):
            log_denial(actor, "offer_delivery", "case", case.pk)
            raise PermissionDenied
        proposal = Proposal.objects.select_related("case__household__commune", "dwelling__commune").get(pk=proposal.pk)
        if registered_letter and delivered_on and proposal.notified_on and delivered_on < proposal.notified_on:
            raise ValidationError({"delivered_on": _("La remise ne peut pas précéder l'envoi de l'offre.")})
        if delivered_on and delivered_on > timezone.localdate():
            raise ValidationError({"delivered_on": _("La date de remise ne peut pas être dans le futur.")})
        proposal.registered_letter = registered_letter
        proposal.delivered_on = delivered_on if registered_letter else None
        # The legal deadline is recomputed from the new start; a later date granted before stays.
        granted, proposal.reply_deadline = proposal.reply_deadline, None
        offers.apply_reply_deadline(proposal)
        if granted and proposal.reply_deadline and granted > proposal.reply_deadline:
            proposal.reply_deadline = granted
        proposal.full_clean()
        proposal.save()
    return proposal
