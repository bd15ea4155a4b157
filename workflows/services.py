"""The only way a case moves: every page, API call, command and test goes through these functions.

Each one runs in one transaction, locks the case row, re-checks the case's state and the actor's
rights after taking the lock, writes the domain record with its history (actor and reason), then
executes the viewflow task so the flow routes to the next step.
"""

import logging
from collections.abc import Callable
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases import choices
from cases.audit import acting_as
from cases.models import (
    CaleolDecision,
    Case,
    CaseCriterion,
    CommitteeReview,
    DepartementSettings,
    Diagnostic,
    Household,
    HouseholdReply,
    Proposal,
)
from permissions.grants import revoke_case_grants
from permissions.policy import Action, log_denial, memberships_of, policy, roles_of
from permissions.roles import Role

from .flows import CaseFlow

log = logging.getLogger("ppgdid.workflow")

ACTIVE = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
# Article R441-3 CCH / CE 436148: at least 10 days to answer an offer (a territory may set more).
DEFAULT_REPLY_DAYS = 10


class StepConflict(Exception):
    """The step was already completed or the case moved on (typically a concurrent user)."""


def _lock_case(case_id: int) -> Case:
    qs = Case.objects.select_related("household", "organisation", "designated_landlord")
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(of=("self",), no_key=True)
    else:
        qs = qs.select_for_update()
    return qs.get(pk=case_id)


def _require(actor, action: str, case: Case) -> None:
    if not policy.can(actor, action, case):
        log_denial(actor, action, "case", case.pk)
        raise PermissionDenied


def dalo_offer_deadline(comed_decision_date: date | None, departement: str | None) -> date | None:
    if not comed_decision_date:
        return None
    months = (
        DepartementSettings.objects.filter(code=departement).values_list("dalo_offer_months", flat=True).first()
        or DepartementSettings._meta.get_field("dalo_offer_months").default
    )
    return comed_decision_date + relativedelta(months=months)


def active_task(case: Case, node_name: str | None = None) -> Task | None:
    tasks = Task.objects.filter(process__caseprocess__case=case, status__in=ACTIVE, flow_task_type="HUMAN")
    if node_name:
        tasks = tasks.filter(flow_task=getattr(CaseFlow, node_name))
    return tasks.order_by("-created").first()


# --- flagging --------------------------------------------------------------------------------------


def case_flag(
    *,
    actor,
    household: Household,
    organisation,
    criteria: list[dict],
    is_protected: bool = False,
    is_dalo: bool = False,
    comed_decision_date: date | None = None,
    reason: str = "",
) -> Case:
    """Open a priority case for a household and start its flow at the diagnostic."""
    allowed = {
        g.organisation_id
        for g in memberships_of(actor)
        if g.role in (Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.RECEPTION)
    }
    if organisation.pk not in allowed:
        log_denial(actor, "flag", "organisation", organisation.pk)
        raise PermissionDenied
    if not criteria:
        raise ValidationError({"criteria": _("Indiquez au moins un critère de priorité.")})
    if is_dalo and not comed_decision_date:
        raise ValidationError(
            {"comed_decision_date": _("Pour un ménage DALO, la date de la décision de la COMED est obligatoire.")}
        )
    with transaction.atomic(), acting_as(actor, reason or "Signalement du ménage"):
        Household.objects.select_for_update().get(pk=household.pk)
        if Case.objects.filter(household=household, closed_at__isnull=True).exists():
            raise ValidationError(_("Ce ménage a déjà un dossier prioritaire ouvert."))
        commune = household.commune
        case = Case(
            household=household,
            organisation=organisation,
            referent=actor,
            is_protected=is_protected,
            is_dalo=is_dalo,
            comed_decision_date=comed_decision_date if is_dalo else None,
            dalo_offer_deadline=dalo_offer_deadline(comed_decision_date, commune.departement if commune else None)
            if is_dalo
            else None,
        )
        case.full_clean(exclude=["status"])
        case.save()
        for item in criteria:
            criterion = CaseCriterion(case=case, **item)
            criterion.full_clean()
            criterion.save()
        Diagnostic.objects.create(case=case)
        CaseFlow.start.run(case=case)
    return case


# --- human steps -----------------------------------------------------------------------------------


def task_claim(*, actor, case: Case, node_name: str) -> Task:
    """Take an available step for oneself (viewflow's assign, with its permission checked)."""
    with transaction.atomic(), acting_as(actor, "Prise en charge de l'étape"):
        case = _lock_case(case.pk)
        _require(actor, Action.VIEW, case)
        task = active_task(case, node_name)
        if task is None:
            raise StepConflict(_("Cette étape n'est plus à faire : le dossier a avancé entre-temps."))
        with task.activation() as activation:
            if task.owner_id == actor.pk:
                return task
            if not (activation.assign.can_proceed() and task.flow_task.can_assign(actor, task)):
                log_denial(actor, f"claim:{node_name}", "case", case.pk)
                raise PermissionDenied
            activation.assign(actor)
    return task


def _complete_step(
    *, actor, case: Case, node_name: str, reason: str, write: Callable[[Case], None], as_system: bool = False
) -> Case:
    """Claim if needed, check the grant, write the step's record, execute the task. All or nothing.

    `as_system`: the system actor completes the step without holding its grant (a legal effect such
    as silence worth refusal). Only the system actor may; the history row carries the reason.
    """
    if as_system and actor.username != settings.SYSTEM_ACTOR_USERNAME:
        log_denial(actor, f"as_system:{node_name}", "case", case.pk)
        raise PermissionDenied
    with transaction.atomic(), acting_as(actor, reason):
        case = _lock_case(case.pk)
        if not as_system:
            _require(actor, Action.VIEW, case)
        task = active_task(case, node_name)
        if task is None:
            raise StepConflict(
                _("Cette étape a déjà été enregistrée (peut-être par un autre utilisateur) : rechargez le dossier.")
            )
        flow_task = task.flow_task
        with task.activation() as activation:
            if as_system:
                if task.owner_id is None:
                    activation.assign(actor)
                elif task.owner_id != actor.pk:
                    activation.reassign(actor)
            if task.owner_id is None:
                if not flow_task.can_assign(actor, task):
                    log_denial(actor, f"execute:{node_name}", "case", case.pk)
                    raise PermissionDenied
                activation.assign(actor)
            if not flow_task.can_execute(actor, task):
                log_denial(actor, f"execute:{node_name}", "case", case.pk)
                raise PermissionDenied
            activation.start(None)
            write(case)
            activation.execute()
    case.refresh_from_db()
    return case


def _close(case: Case, reason: str, comment: str = "") -> None:
    case.closed_at = timezone.now()
    case.closure_reason = reason
    case.closure_comment = comment
    case.status = choices.CaseStatus.CLOSED
    case.save()
    revoke_case_grants(case)


def diagnostic_complete(*, actor, case: Case, values: dict, areas_to_avoid=(), recommended_communes=()) -> Case:
    def write(case):
        diagnostic = case.diagnostic
        for field, value in values.items():
            setattr(diagnostic, field, value)
        diagnostic.completed_at = timezone.now()
        diagnostic.full_clean()
        diagnostic.save()
        diagnostic.areas_to_avoid.set(areas_to_avoid)
        diagnostic.recommended_communes.set(recommended_communes)

    return _complete_step(actor=actor, case=case, node_name="diagnostic", reason="Diagnostic terminé", write=write)


def committee_decide(*, actor, case: Case, values: dict) -> Case:
    """Record the committee's outcome (or its ruling on a loss of DALO benefit) and route the case."""

    def write(case):
        kind = CommitteeReview.Kind.DALO_LOSS if case.dalo_loss_review_pending else CommitteeReview.Kind.PRIORITY
        review = CommitteeReview(case=case, kind=kind, decided_by=actor, **values)
        review.full_clean()
        review.save()
        if kind == CommitteeReview.Kind.DALO_LOSS:
            case.dalo_loss_review_pending = False
            if review.dalo_benefit_lost:
                _close(case, choices.ClosureReason.DALO_BENEFIT_LOST, review.reason)
            else:
                case.save()
            return
        outcome = review.outcome
        if outcome == choices.CommitteeOutcome.LABELLED:
            case.designated_landlord = review.designated_landlord
            case.target_reservataire = review.target_reservataire
            case.save()
        elif outcome == choices.CommitteeOutcome.ADJOURNED:
            case.diagnostic.completed_at = None
            case.diagnostic.save()
        elif outcome == choices.CommitteeOutcome.NOT_KEPT:
            _close(case, choices.ClosureReason.NOT_KEPT, review.reason)
        elif outcome == choices.CommitteeOutcome.REDIRECTED:
            _close(case, choices.ClosureReason.REDIRECTED, review.get_redirected_to_display())

    return _complete_step(
        actor=actor, case=case, node_name="committee", reason="Décision de la commission", write=write
    )


def _landlord_org_ids(actor) -> set[int]:
    return {g.organisation_id for g in memberships_of(actor) if g.role == Role.LANDLORD_AGENT}


def proposal_make(*, actor, case: Case, values: dict) -> Case:
    def write(case):
        proposal = Proposal(case=case, created_by=actor, **values)
        if proposal.dwelling.landlord_id not in _landlord_org_ids(actor) and not actor.is_superuser:
            raise ValidationError({"dwelling": _("Ce logement n'appartient pas à votre organisme.")})
        if case.is_dalo and not proposal.dalo_notice_given_at:
            raise ValidationError(
                {
                    "dalo_notice_given_at": _(
                        "Ménage DALO : indiquez quand il a été informé que l'offre est faite au titre du DALO "
                        "et des conséquences d'un refus. L'offre ne peut pas partir sans cette information."
                    )
                }
            )
        if proposal.notified_on and not proposal.reply_deadline:
            proposal.reply_deadline = proposal.notified_on + timedelta(days=DEFAULT_REPLY_DAYS)
        if proposal.notified_on and proposal.reply_deadline < proposal.notified_on + timedelta(days=DEFAULT_REPLY_DAYS):
            raise ValidationError(
                {"reply_deadline": _("Le délai de réponse doit être d'au moins 10 jours après la notification.")}
            )
        proposal.full_clean()
        proposal.save()

    return _complete_step(actor=actor, case=case, node_name="proposal", reason="Proposition de logement", write=write)


def current_proposal(case: Case) -> Proposal | None:
    return case.proposals.select_related("dwelling", "dwelling__commune").order_by("-created_at", "-pk").first()


def caleol_record(*, actor, case: Case, values: dict) -> Case:
    def write(case):
        decision = CaleolDecision(proposal=current_proposal(case), **values)
        decision.full_clean()
        decision.save()
        if decision.decision == choices.CaleolDecisionType.INADMISSIBLE:
            _close(case, choices.ClosureReason.INADMISSIBLE, decision.get_inadmissibility_reason_display())

    return _complete_step(actor=actor, case=case, node_name="caleol", reason="Décision CALEOL", write=write)


def reply_record(*, actor, case: Case, values: dict, as_system: bool = False, reason: str = "") -> Case:
    """Record the household's answer. Silence past the deadline is a refusal (no_reply).

    The deadline scan records that silence with `as_system=True` (see notifications/scan.py).
    """

    def write(case):
        proposal = current_proposal(case)
        reply = HouseholdReply(proposal=proposal, **values)
        if reply.answer == choices.ReplyAnswer.NO_REPLY:
            reply.refusal_motive = choices.RefusalMotive.NO_REPLY
        if reply.answer != choices.ReplyAnswer.ACCEPTED and reply.legitimate is None:
            reply.legitimate = choices.REFUSAL_LEGITIMATE_FOR_DALO.get(reply.refusal_motive)
        reply.full_clean()
        reply.save()
        if reply.answer == choices.ReplyAnswer.ACCEPTED:
            return
        case.refusal_count += 1
        # Loss of DALO benefit needs an adapted offer, refused without a legitimate motive, by a
        # household told beforehand what refusing means (CE 374241): the committee rules on it.
        if case.is_dalo and proposal.dalo_notice_given_at and not reply.legitimate:
            case.dalo_loss_review_pending = True
        case.save()

    reason = reason or "Réponse du ménage"
    return _complete_step(actor=actor, case=case, node_name="reply", reason=reason, write=write, as_system=as_system)


def lease_record(*, actor, case: Case, signed_on: date) -> Case:
    def write(case):
        proposal = current_proposal(case)
        if signed_on < proposal.caleol_decision.decided_on:
            raise ValidationError({"signed_on": _("Le bail ne peut pas être signé avant la décision de la CALEOL.")})
        proposal.lease_signed_on = signed_on
        proposal.save()
        _close(case, choices.ClosureReason.REHOUSED_SOCIAL)

    return _complete_step(actor=actor, case=case, node_name="lease", reason="Bail signé", write=write)


def case_close(*, actor, case: Case, reason: str, comment: str) -> Case:
    """Close a case at any step with a stated reason; open steps are cancelled."""
    if reason not in choices.ClosureReason.values:
        raise ValidationError({"reason": _("Motif de clôture inconnu.")})
    if not comment.strip():
        raise ValidationError({"comment": _("Expliquez en quelques mots pourquoi le dossier est clos.")})
    with transaction.atomic(), acting_as(actor, "Clôture du dossier"):
        case = _lock_case(case.pk)
        _require(actor, Action.CLOSE, case)
        if not case.is_open:
            raise StepConflict(_("Ce dossier est déjà clos."))
        for process in case.processes.filter(finished__isnull=True):
            CaseFlow.instance.cancel(process)
        _close(case, reason, comment)
    return case


def can_flag(actor) -> bool:
    return bool(roles_of(actor) & {Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.RECEPTION})


# --- households ------------------------------------------------------------------------------------


def household_flag(
    *,
    actor,
    household: Household,
    members=(),
    organisation,
    criteria: list[dict],
    is_protected: bool = False,
    is_dalo: bool = False,
    comed_decision_date: date | None = None,
) -> Case:
    """Register a new household with its members and open its priority case, all or nothing."""
    if not can_flag(actor):
        log_denial(actor, "flag", "organisation", organisation.pk)
        raise PermissionDenied
    with transaction.atomic(), acting_as(actor, "Enregistrement du ménage"):
        household.full_clean()
        household.save()
        for member in members:
            member.household = household
            member.full_clean()
            member.save()
        return case_flag(
            actor=actor,
            household=household,
            organisation=organisation,
            criteria=criteria,
            is_protected=is_protected,
            is_dalo=is_dalo,
            comed_decision_date=comed_decision_date,
        )


def household_update(*, actor, case: Case, household: Household, members=(), deleted_members=()) -> Household:
    """Change the household of a case (Action.CHANGE on that case), members included."""
    with transaction.atomic(), acting_as(actor, "Mise à jour du ménage"):
        case = _lock_case(case.pk)
        _require(actor, Action.CHANGE, case)
        if household.pk != case.household_id:
            raise PermissionDenied
        household.full_clean()
        household.save()
        for member in members:
            member.household = household
            member.full_clean()
            member.save()
        for member in deleted_members:
            if member.pk and member.household_id == household.pk:
                member.delete()
    return household
