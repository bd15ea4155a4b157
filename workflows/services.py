"""The only way a case moves: every page, API call, command and test goes through these functions.

Each one runs in one transaction, locks the case row, re-checks the case's state and the actor's
rights after taking the lock, writes the domain record with its history (actor and reason), then
executes the viewflow task so the flow routes to the next step.
"""

import logging
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow import lock
from viewflow.workflow.models import Task

from audit.chain import chained_at_end
from cases import choices, deadlines, matching, offers
from cases.audit import acting_as, system_actor
from cases.models import (
    CaleolDecision,
    Case,
    CaseCriterion,
    CommitteeReview,
    Diagnostic,
    Household,
    HouseholdReply,
    Proposal,
)
from permissions.grants import holds_step, revoke_case_grants
from permissions.models import Membership
from permissions.policy import Action, delegators_of, log_denial, memberships_of, policy, roles_of
from permissions.roles import Role

from . import events
from .flows import STEPS, CaseFlow
from .locking import held_case, holding
from .models import ACTIVE, CommitteeDecisionSource, StepHandover
from .queries import active_task, current_proposal

log = logging.getLogger("ppgdid.workflow")

# Article R441-10 CCH / CE 436148: at least 10 days to answer an offer (see cases/deadlines.py).
DEFAULT_REPLY_DAYS = deadlines.LEGAL_MIN_REPLY_DAYS


class StepConflict(Exception):
    """The step was already completed or the case moved on (typically a concurrent user)."""


class StepHeldElsewhere(StepConflict):
    """The step is held by someone who must give it back first (release, or a supervisor's reassign,
    on the case page: web.tasks.handover)."""

    def __init__(self, message, *, case_id: int):
        super().__init__(message)
        self.case_id = case_id


@contextmanager
def audited(actor, reason: str, *, savepoint: bool = True):
    """One transaction acting as `actor`: its history rows are chained in one batch before commit.
    `savepoint=False`: inside a caller's transaction that lets any error end it (no savepoint)."""
    with transaction.atomic(savepoint=savepoint), acting_as(actor, reason), chained_at_end():
        yield


def _lock_case(case_id: int, related: tuple = ()) -> Case:
    """The case row locked for this transaction (read once: a caller holding it already passes it on),
    with `related` read in the same query (e.g. the diagnostic its step writes)."""
    held = held_case(case_id)
    if held is not None:
        return held
    qs = Case.objects.select_related("household__commune", "organisation", "designated_landlord", "referent", *related)
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(of=("self",), no_key=True)
    else:
        qs = qs.select_for_update()
    return qs.get(pk=case_id)


def _require(actor, action: str, case: Case) -> None:
    if not policy.can(actor, action, case):
        log_denial(actor, action, "case", case.pk)
        raise PermissionDenied


def _require_view_and_step(actor, case: Case, node_name: str) -> bool:
    """Check the actor sees the case (else PermissionDenied, logged) and answer whether one of their
    role groups holds the step's grant on it (viewflow's can_assign, without its three queries): one
    query for both."""
    codename = STEPS[node_name][0]
    if not actor.is_active:
        log_denial(actor, Action.VIEW, "case", case.pk)
        raise PermissionDenied
    holds = (
        policy.queryset_for(actor, Action.VIEW)
        .filter(pk=case.pk)
        .annotate(holds=holds_step(actor, codename))
        .values_list("holds", flat=True)
        .first()
    )
    if holds is None:
        log_denial(actor, Action.VIEW, "case", case.pk)
        raise PermissionDenied
    return holds or actor.is_superuser


def _open_step(case: Case, node_name: str) -> Task | None:
    """The case's open step of that node (as `queries.active_task`) with its process and CaseProcess
    row in the same query: the activation below reads neither again."""
    return (
        Task.objects.filter(process__caseprocess__case=case, status__in=ACTIVE, flow_task_type="HUMAN")
        .filter(flow_task=getattr(CaseFlow, node_name))
        .select_related("process__caseprocess")
        .order_by("-created")
        .first()
    )


@contextmanager
def _process_row_lock(flow_class, process_pk):
    """The flow's lock (viewflow's `select_for_update_lock`: the process row FOR UPDATE) taken in the
    service's own transaction, without a savepoint around it. viewflow's lock opens one to retry a
    NOWAIT lock after a failure; here the case row is locked first by every writer of a step, so only
    a deadline timer fired by beat may hold the process row, for the time of its own step: wait for it."""
    assert connection.in_atomic_block, "a step's process is locked inside the service's transaction"
    flow_class.process_class._default_manager.filter(pk=process_pk).select_for_update().exists()
    yield


@contextmanager
def _step_activation(task: Task):
    """viewflow's `task.activation()` (the flow's process lock, then the activation) without its
    re-reads and savepoint: the task, its process and its CaseProcess were read by `_open_step` after
    the case row was locked, and every writer of a human step (these services) locks the case row
    first, so the re-read under the process lock would return the same row."""
    with lock.lock_scope(_process_row_lock, task.flow_task.flow_class, task.process_id):
        yield task.flow_task.activation_class(task)


def _may_assign(task, holds: bool) -> bool:
    """viewflow's can_assign (nobody holds the task, the user holds its permission), the grant read by
    `_require_view_and_step`."""
    return task.owner_id is None and holds


def dalo_offer_deadline(comed_decision_date: date | None, departement: str | None) -> date | None:
    """Kept for callers; the rule is cases.deadlines.dalo_offer_deadline (R441-16-1 CCH)."""
    return deadlines.dalo_offer_deadline(comed_decision_date, departement)


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
    with audited(actor, reason or "Signalement du ménage"):
        Household.objects.select_for_update().get(pk=household.pk)
        if Case.objects.filter(household=household, closed_at__isnull=True).exists():
            raise ValidationError(_("Ce ménage a déjà un dossier prioritaire ouvert."))
        case = Case(
            household=household,
            organisation=organisation,
            referent=actor,
            is_protected=is_protected,
            is_dalo=is_dalo,
            comed_decision_date=comed_decision_date if is_dalo else None,
        )  # Case.save computes the préfet's deadline (cases/deadlines.py)
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
    with audited(actor, "Prise en charge de l'étape"):
        case = _lock_case(case.pk)
        holds = _require_view_and_step(actor, case, node_name)
        task = active_task(case, node_name)
        if task is None:
            raise StepConflict(_("Cette étape n'est plus à faire : le dossier a avancé entre-temps."))
        with task.activation() as activation:
            if task.owner_id == actor.pk:
                return task
            if holds and _stands_in_for(actor, task.owner_id):
                return _take_as_delegate(actor, case, node_name, task, activation)
            if not (activation.assign.can_proceed() and _may_assign(task, holds)):
                log_denial(actor, f"claim:{node_name}", "case", case.pk)
                raise PermissionDenied
            activation.assign(actor)
    return task


def _stands_in_for(actor, owner_id: int | None) -> bool:
    """`actor` is today the delegate of the step's holder (permissions.models.Delegation)."""
    return owner_id is not None and owner_id in delegators_of(actor)


def _handover(case: Case, task: Task, node_name: str, kind: str, actor, from_user_id: int, to_user, reason: str):
    """Record the change of hands with its history row (chained on the case's audit trail)."""
    StepHandover.objects.create(
        case=case,
        task_id=task.pk,
        node=node_name,
        kind=kind,
        from_user_id=from_user_id,
        to_user=to_user,
        actor=actor,
        reason=reason,
    )
    log.info("step handover kind=%s task_id=%s case_id=%s by user_id=%s", kind, task.pk, case.pk, actor.pk)


def _take_as_delegate(actor, case: Case, node_name: str, task: Task, activation) -> Task:
    """The delegate takes a step its delegator holds (inside task_claim's lock and activation)."""
    from_user_id = task.owner_id
    activation.reassign(actor)
    reason = "Remplacement pendant une absence"
    _handover(case, task, node_name, StepHandover.Kind.DELEGATE_TOOK, actor, from_user_id, actor, reason)
    return task


def _taken_task(actor, case: Case, node_name: str) -> Task:
    """The case's open step of that node, taken by someone (StepConflict otherwise)."""
    task = active_task(case, node_name)
    if task is None or task.owner_id is None or task.status != "ASSIGNED":
        raise StepConflict(_("Cette étape n'est plus prise en charge : rechargez le dossier."))
    return task


def task_release(*, actor, case: Case, node_name: str, reason: str) -> Task:
    """The holder of a step gives it back to the team's queue (viewflow's unassign), with a reason."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationError({"reason": _("Indiquez le motif (quelques mots au moins).")})
    with audited(actor, "Étape libérée"):
        case = _lock_case(case.pk)
        _require(actor, Action.VIEW, case)
        task = _taken_task(actor, case, node_name)
        if task.owner_id != actor.pk:
            log_denial(actor, f"release:{node_name}", "case", case.pk)
            raise PermissionDenied
        with task.activation() as activation:
            activation.unassign()
        _handover(case, task, node_name, StepHandover.Kind.RELEASED, actor, actor.pk, None, reason)
    return task


def supervised_organisations(actor) -> set[int]:
    """The organisations where `actor` is a supervisor (who may reassign their members' steps)."""
    return {g.organisation_id for g in memberships_of(actor) if g.role == Role.SUPERVISOR}


def _holder_organisations(actor, task: Task):
    """The organisations `actor` supervises where the step's holder is an active member."""
    orgs = supervised_organisations(actor)
    return Membership.objects.filter(user_id=task.owner_id, is_active=True, organisation_id__in=orgs)


def may_reassign(actor, task: Task) -> bool:
    """`actor` supervises the organisation of the step's holder (no query for a non-supervisor)."""
    return bool(supervised_organisations(actor)) and _holder_organisations(actor, task).exists()


def reassign_candidates(actor, task: Task):
    """Members of the organisations `actor` supervises where the step's holder works, holder excepted."""
    holder_orgs = _holder_organisations(actor, task)
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__organisation_id__in=holder_orgs.values("organisation_id"),
        )
        .exclude(pk=task.owner_id)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def task_reassign(*, actor, case: Case, node_name: str, to_user, reason: str) -> Task:
    """A supervisor hands a taken step to another member of the same organisation, with a reason.
    The new holder must be able to do the step (sees the case, holds the step's grant)."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationError({"reason": _("Indiquez le motif (quelques mots au moins).")})
    with audited(actor, "Étape réattribuée"):
        case = _lock_case(case.pk)
        _require(actor, Action.VIEW, case)
        task = _taken_task(actor, case, node_name)
        holder_orgs = set(_holder_organisations(actor, task).values_list("organisation_id", flat=True))
        if not holder_orgs:
            log_denial(actor, f"reassign:{node_name}", "case", case.pk)
            raise PermissionDenied
        if (
            to_user is None
            or not Membership.objects.filter(user=to_user, is_active=True, organisation_id__in=holder_orgs).exists()
        ):
            log_denial(actor, f"reassign_to:{node_name}", "case", case.pk)
            raise ValidationError(
                {"to_user": _("On ne réattribue une étape qu'à un membre de la même organisation que son titulaire.")}
            )
        if to_user.pk == task.owner_id:
            raise ValidationError({"to_user": _("Cette personne a déjà pris en charge l'étape.")})
        try:
            holds = _require_view_and_step(to_user, case, node_name)
        except PermissionDenied:
            holds = False
        if not holds:
            raise ValidationError({"to_user": _("Cette personne ne peut pas faire cette étape sur ce dossier.")})
        from_user_id = task.owner_id
        with task.activation() as activation:
            activation.reassign(to_user)
        _handover(case, task, node_name, StepHandover.Kind.REASSIGNED, actor, from_user_id, to_user, reason)
    return task


def _complete_step(
    *,
    actor,
    case: Case,
    node_name: str,
    reason: str,
    write: Callable[[Case], None],
    as_system: bool = False,
    related: tuple = (),
) -> Case:
    """Claim if needed, check the grant, write the step's record, execute the task. All or nothing.

    `as_system`: the system actor completes the step without holding its grant (a legal effect such
    as silence worth refusal). Only the system actor may; the history row carries the reason.
    """
    if as_system and actor.username != settings.SYSTEM_ACTOR_USERNAME:
        log_denial(actor, f"as_system:{node_name}", "case", case.pk)
        raise PermissionDenied
    # A caller holding the case locked (committees.services.procedure_close) runs the step in its own
    # transaction and lets any error end it: no savepoint of the step's own.
    with audited(actor, reason, savepoint=held_case(case.pk) is None):
        case = _lock_case(case.pk, related)
        with holding(case):  # the flow's callbacks of this transition use this instance, not a new read
            holds = as_system or _require_view_and_step(actor, case, node_name)
            task = _open_step(case, node_name)
            if task is None:
                raise StepConflict(
                    _("Cette étape a déjà été enregistrée (peut-être par un autre utilisateur) : rechargez le dossier.")
                )
            flow_task = task.flow_task
            with _step_activation(task) as activation:
                if as_system:
                    if task.owner_id is None:
                        activation.assign(actor)
                    elif task.owner_id != actor.pk:
                        activation.reassign(actor)
                if task.owner_id is None:
                    if not _may_assign(task, holds):
                        log_denial(actor, f"execute:{node_name}", "case", case.pk)
                        raise PermissionDenied
                    activation.assign(actor)
                if not flow_task.can_execute(actor, task):
                    log_denial(actor, f"execute:{node_name}", "case", case.pk)
                    raise PermissionDenied
                activation.start(None)
                write(case)
                activation.execute()
                if case.__dict__.pop("_save_with_step", False):  # no step opened to save it (save_with_step)
                    case.save()
    # Every write of the transition went through this instance (workflows/locking.py): no read back.
    return case


def save_with_step(case: Case) -> None:
    """In a transition: the case's new values are written by the UPDATE that sets the status of the
    step opening next (flows.step_created), one save and one history row instead of two; by
    `_complete_step` when no step opens."""
    case._save_with_step = True


def _close(case: Case, reason: str, comment: str = "") -> None:
    case._history_changed = True  # cases.history: closed now, no need to read the last history row
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
        diagnostic.full_clean(exclude=["case"])  # the locked case's own diagnostic: no need to look it up
        diagnostic._history_changed = True  # its completion moment is new: no need to read the last history row
        diagnostic.save()
        diagnostic.areas_to_avoid.set(areas_to_avoid)
        diagnostic.recommended_communes.set(recommended_communes)

    return _complete_step(
        actor=actor,
        case=case,
        node_name="diagnostic",
        reason="Diagnostic terminé",
        write=write,
        related=("diagnostic",),  # read with the locked case
    )


DRAFT_REASON = "Brouillon du diagnostic"


def diagnostic_save_draft(*, actor, case: Case, values: dict, areas_to_avoid=None, recommended_communes=None) -> Case:
    """Save the diagnostic as it stands, with its history, without completing the step: the case stays
    at the diagnostic and the step page shows the draft again. Saving takes an unowned step for the
    actor, as completing would; only its owner (or a holder of the step's grant) may save."""
    with audited(actor, DRAFT_REASON):
        case = _lock_case(case.pk)
        holds = _require_view_and_step(actor, case, "diagnostic")
        task = active_task(case, "diagnostic")
        if task is None:
            raise StepConflict(
                _("Cette étape a déjà été enregistrée (peut-être par un autre utilisateur) : rechargez le dossier.")
            )
        if task.owner_id is None:
            with task.activation() as activation:
                if not (activation.assign.can_proceed() and _may_assign(task, holds)):
                    log_denial(actor, "draft:diagnostic", "case", case.pk)
                    raise PermissionDenied
                activation.assign(actor)
        elif task.owner_id != actor.pk:
            log_denial(actor, "draft:diagnostic", "case", case.pk)
            raise PermissionDenied
        diagnostic = case.diagnostic
        for field, value in values.items():
            setattr(diagnostic, field, value)
        diagnostic.full_clean(exclude=["case"])
        diagnostic.save()
        if areas_to_avoid is not None:
            diagnostic.areas_to_avoid.set(areas_to_avoid)
        if recommended_communes is not None:
            diagnostic.recommended_communes.set(recommended_communes)
    return case


def _committee_source(actor, case: Case, source, kind: str):
    """The collective record a committee decision comes from, re-read under the case lock: a session
    decision not yet applied (session open) or a written procedure closed with its outcome, on this
    case and this kind of examination, recorded by `actor`. Nobody decides alone from the step."""
    fresh = None
    if isinstance(source, CommitteeDecisionSource):
        fresh = source.locked_for_decision(actor=actor, case=case, kind=kind)
    if fresh is None:
        log_denial(actor, "committee_decide:no_source", "case", case.pk)
        raise PermissionDenied(
            _(
                "La commission décide en séance ou par procédure écrite : une décision ne peut pas être "
                "enregistrée par un membre seul."
            )
        )
    return fresh


# Outcomes after which committee_decide saves the case itself (labelled, or closed by _close).
_CASE_SAVED_AFTER_REVIEW = (
    choices.CommitteeOutcome.LABELLED,
    choices.CommitteeOutcome.NOT_KEPT,
    choices.CommitteeOutcome.REDIRECTED,
)


def committee_decide(*, actor, case: Case, values: dict, source=None) -> Case:
    """Record the committee's outcome (or its ruling on a loss of DALO benefit) and route the case.

    `source` is the collective record the decision comes from (a `CommitteeDecisionSource`: the
    committees' session decision or closed written procedure); without one, the call is refused. Only
    committees/services.py calls this.
    """

    def write(case):
        kind = CommitteeReview.Kind.DALO_LOSS if case.dalo_loss_review_pending else CommitteeReview.Kind.PRIORITY
        origin = _committee_source(actor, case, source, kind)
        review = CommitteeReview(case=case, kind=kind, decided_by=actor, **values)
        # The locked case, the actor and the organisations given as instances (read by the form or the
        # source; no other rule on these links): no need to look them up again.
        given = [f for f in ("designated_landlord", "target_reservataire") if getattr(values.get(f), "pk", None)]
        review.full_clean(exclude=["case", "decided_by", *given])
        outcome = review.outcome
        if kind == CommitteeReview.Kind.DALO_LOSS or outcome in _CASE_SAVED_AFTER_REVIEW:
            # Written by the case's own save below, not by a separate one from CommitteeReview.save.
            case.decided_in_committee = True
        review.save()
        origin.attach_review(review)
        if kind == CommitteeReview.Kind.DALO_LOSS:
            case.dalo_loss_review_pending = False
            if review.dalo_benefit_lost:
                _close(case, choices.ClosureReason.DALO_BENEFIT_LOST, review.reason)
            else:
                save_with_step(case)
            return
        if outcome == choices.CommitteeOutcome.LABELLED:
            if (case.designated_landlord_id, case.target_reservataire_id) != (
                review.designated_landlord_id,
                review.target_reservataire_id,
            ):
                case._history_changed = True  # cases.history: differs from the last row, no need to read it
            case.designated_landlord = review.designated_landlord
            case.target_reservataire = review.target_reservataire
            save_with_step(case)  # with the proposal step's status
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


def _require_landlord_of(actor, dwelling, field: str = "dwelling") -> None:
    if dwelling.landlord_id not in _landlord_org_ids(actor) and not actor.is_superuser:
        raise ValidationError({field: _("Ce logement n'appartient pas à votre organisme.")})


# Keys of a proposal's `values` that describe the allocation round rather than the proposal itself.
OFFER_KEYS = ("offer", "fewer_candidates_reason", "fewer_candidates_detail")


def _offer_exception(values: dict) -> dict:
    """The round's fewer-candidates exception given in `values`; {} when the form left it blank (a
    blank field keeps what was recorded)."""
    reason = values.get("fewer_candidates_reason")
    if not reason:
        return {}
    return {"fewer_candidates_reason": reason, "fewer_candidates_detail": values.get("fewer_candidates_detail") or ""}


def _set_offer_exception(offer, values: dict) -> None:
    exception = _offer_exception(values)
    if all(getattr(offer, name) == value for name, value in exception.items()):
        return  # nothing new: no write
    for name, value in exception.items():
        setattr(offer, name, value)
    offer.full_clean(exclude=["dwelling", "created_by"])
    offer._history_changed = True  # cases.history: differs from the row just read, no need to read the last one
    offer.save()


def proposal_make(*, actor, case: Case, values: dict) -> Case:
    """Put a dwelling forward to the case: the case becomes one candidate of the dwelling's open
    allocation round (DwellingOffer, opened on the first candidate). `values` holds the Proposal's
    fields (dwelling, dalo_notice_given_at, match_override_reason, estimated_apl, notified_on…) and
    optionally `offer` and the round's fewer-candidates exception.
    """
    values = dict(values)
    round_values = {key: values.pop(key) for key in OFFER_KEYS if key in values}

    def write(case):
        offer = round_values.get("offer")
        dwelling = offer.dwelling if offer else values.pop("dwelling", None)
        values.pop("dwelling", None)
        if dwelling is None:
            raise ValidationError({"dwelling": _("Choisissez le logement proposé.")})
        _require_landlord_of(actor, dwelling)
        if offer is not None:
            offer = offers.lock_offer(offer.pk)
            if offer.status != choices.OfferStatus.OPEN:
                raise ValidationError(
                    {"offer": _("Cette mise en location est close : le logement n'est plus proposé.")}
                )
            _set_offer_exception(offer, round_values)
            opened = False
        else:
            offer, opened = offers.open_offer(dwelling, actor, **_offer_exception(round_values))
            if not opened:
                _set_offer_exception(offer, round_values)
        if not opened and offer.proposals.filter(case=case).exists():  # a round opened now has no candidate
            raise ValidationError({"dwelling": _("Ce logement est déjà proposé à ce ménage.")})
        proposal = Proposal(case=case, dwelling=dwelling, offer=offer, created_by=actor, **values)
        offers.check_dalo_notice(case, proposal, field="dalo_notice_given_at")
        offers.apply_reply_deadline(proposal)
        warnings = matching.check(case, dwelling, proposal.estimated_apl)
        proposal.match_warnings = [w.as_dict() for w in warnings]
        if warnings and not proposal.match_override_reason.strip():
            raise ValidationError(
                {
                    "match_override_reason": [w.message for w in warnings]
                    + [_("Pour proposer quand même ce logement, indiquez pourquoi.")]
                }
            )
        # The locked case, the dwelling and round just checked and locked, the actor: no need to look them
        # up again (nor the (case, round) pair: checked above, under the round's lock).
        proposal.full_clean(exclude=["case", "dwelling", "offer", "created_by"])
        proposal.save()

    return _complete_step(actor=actor, case=case, node_name="proposal", reason="Proposition de logement", write=write)


def caleol_record(*, actor, case: Case, values: dict) -> Case:
    """Record the CALEOL's decision on this candidate (one of the five of R441-3 CCH, with its rank)."""
    values = dict(values)
    round_values = {key: values.pop(key) for key in OFFER_KEYS[1:] if key in values}

    def write(case):
        proposal = current_proposal(case)
        decision = CaleolDecision(proposal=proposal, **values)
        if proposal.offer_id:
            proposal.offer = offers.lock_offer(proposal.offer_id)
            _set_offer_exception(proposal.offer, round_values)
            offers.check_candidate_count(proposal.offer)
            if decision.is_allocation and proposal.offer.status != choices.OfferStatus.OPEN:
                raise ValidationError({"decision": _("Ce logement n'est plus à attribuer (déjà loué ou retiré).")})
        if decision.decision == choices.CaleolDecisionType.ALLOCATED and decision.rank is None:
            decision.rank = 1
        # The current proposal, read above: its existence is not checked again, its uniqueness is.
        decision.full_clean(exclude=["proposal"])
        decision.validate_unique()
        offers.check_rank_free(proposal, decision)
        decision.save()
        # Only a general inadmissibility closes the case; one tied to this dwelling ends this proposal.
        if decision.closes_case:
            _close(case, choices.ClosureReason.INADMISSIBLE, decision.get_inadmissibility_reason_display())

    return _complete_step(actor=actor, case=case, node_name="caleol", reason="Décision CALEOL", write=write)


def proposal_notify(
    *,
    actor,
    case: Case,
    notified_on: date,
    registered_letter: bool = False,
    delivered_on: date | None = None,
    reply_deadline: date | None = None,
) -> Proposal:
    """Record that the offer was sent to the household (again, to add a registered letter's delivery
    date). Only the candidate the dwelling is offered to now can be notified."""
    with audited(actor, "Notification de l'offre"):
        case = _lock_case(case.pk)
        _require(actor, Action.VIEW, case)
        proposal = current_proposal(case)
        if case.status != choices.CaseStatus.REPLY or proposal is None or hasattr(proposal, "reply"):
            raise StepConflict(_("Aucune offre attribuée n'attend de réponse pour ce dossier."))
        _require_landlord_of(actor, proposal.dwelling, "notified_on")
        if proposal.offer_id:
            offers.lock_offer(proposal.offer_id)
            if offers.holder(proposal.offer) != proposal:
                raise ValidationError(
                    {
                        "notified_on": _(
                            "Le logement est encore réservé à un candidat mieux classé : attendez sa réponse."
                        )
                    }
                )
        decided_on = proposal.caleol_decision.decided_on
        if notified_on < decided_on:
            raise ValidationError(
                {"notified_on": _("L'offre ne peut pas être notifiée avant la décision de la CALEOL.")}
            )
        proposal.notified_on = notified_on
        offers.check_dalo_notice(case, proposal, field="notified_on")
        proposal.registered_letter = registered_letter
        proposal.delivered_on = delivered_on
        proposal.reply_deadline = reply_deadline
        offers.apply_reply_deadline(proposal)
        proposal.full_clean()
        proposal.save()
    return proposal


def condition_fulfil(*, actor, case: Case, received_on: date) -> CaleolDecision:
    """The missing document of a conditional allocation arrived in time: the condition is lifted."""
    with audited(actor, "Condition suspensive levée"):
        case = _lock_case(case.pk)
        _require(actor, Action.VIEW, case)
        proposal = current_proposal(case)
        decision = getattr(proposal, "caleol_decision", None) if proposal else None
        if (
            case.status != choices.CaseStatus.REPLY
            or decision is None
            or decision.decision != choices.CaleolDecisionType.SUSPENSIVE_CONDITION
        ):
            raise StepConflict(_("Aucune attribution sous condition suspensive n'est en cours pour ce dossier."))
        _require_landlord_of(actor, proposal.dwelling, "received_on")
        if decision.condition_met_on:
            raise StepConflict(_("La pièce manquante a déjà été reçue."))
        if received_on < decision.decided_on:
            raise ValidationError({"received_on": _("La pièce ne peut pas avoir été reçue avant la CALEOL.")})
        if received_on > decision.condition_deadline or received_on > timezone.localdate():
            raise ValidationError(
                {
                    "received_on": _(
                        "La pièce devait être fournie au plus tard le %(date)s : la condition est caduque."
                    )
                    % {"date": decision.condition_deadline.strftime("%d/%m/%Y")}
                    if received_on > decision.condition_deadline
                    else _("La date de réception ne peut pas être dans le futur.")
                }
            )
        decision.condition_met_on = received_on
        decision.save()
    return decision


def _record_reply(case: Case, proposal: Proposal, values: dict) -> HouseholdReply:
    reply = HouseholdReply(proposal=proposal, **values)
    answer = reply.answer
    if answer == choices.ReplyAnswer.NO_REPLY:
        reply.refusal_motive = choices.RefusalMotive.NO_REPLY
    if case.is_dalo and reply.refusal_motive in choices.REFUSAL_WEIGHED_BY_COMMITTEE:
        reply.legitimate = None  # presumed neither way: the committee weighs it
    elif answer in (choices.ReplyAnswer.REFUSED, choices.ReplyAnswer.NO_REPLY) and reply.legitimate is None:
        reply.legitimate = choices.REFUSAL_LEGITIMATE_FOR_DALO.get(reply.refusal_motive)
    # The current proposal, read by the caller: its existence is not checked again, its uniqueness is.
    reply.full_clean(exclude=["proposal"])
    reply.validate_unique()
    if answer != choices.ReplyAnswer.LAPSED:
        _check_reply_allowed(proposal, reply)
    reply.save()
    return reply


def _check_reply_allowed(proposal: Proposal, reply: HouseholdReply) -> None:
    if proposal.offer_id and offers.holder(offers.lock_offer(proposal.offer_id)) != proposal:
        raise ValidationError(
            {
                "answer": _(
                    "Le logement est encore réservé à un candidat mieux classé : ce ménage ne peut pas encore répondre."
                )
            }
        )
    if not proposal.notified_on:
        raise ValidationError({"answer": _("Enregistrez d'abord la notification de l'offre au ménage.")})
    if reply.replied_on < proposal.notified_on:
        raise ValidationError({"replied_on": _("La réponse ne peut pas précéder la notification de l'offre.")})
    if reply.answer == choices.ReplyAnswer.NO_REPLY:
        # The one deadline (cases/deadlines.py): it expires at the end of its last day, so silence
        # is a refusal only from the next day, and only once that day has come.
        deadline = deadlines.reply_due(proposal)
        if deadline is None or reply.replied_on <= deadline or timezone.localdate() <= deadline:
            raise ValidationError(
                {
                    "answer": _(
                        "Le silence ne vaut refus qu'après la date limite de réponse (%(date)s) : le ménage a "
                        "jusqu'à la fin de ce jour pour répondre."
                    )
                    % {"date": deadline.strftime("%d/%m/%Y") if deadline else _("lettre non encore remise")}
                }
            )
    decision = proposal.caleol_decision
    if (
        reply.answer == choices.ReplyAnswer.ACCEPTED
        and decision.decision == choices.CaleolDecisionType.SUSPENSIVE_CONDITION
        and not decision.condition_met_on
    ):
        raise ValidationError(
            {
                "answer": _(
                    "Attribution sous condition : enregistrez d'abord la réception de la pièce manquante (%(doc)s)."
                )
                % {"doc": decision.missing_document}
            }
        )


def reply_record(*, actor, case: Case, values: dict, as_system: bool = False, reason: str = "") -> Case:
    """Record the household's answer. Silence past the deadline is a refusal (no_reply). A refusal
    raises the case's counter and sends it back to the proposal step; the dwelling passes to the next
    candidate in the CALEOL's ranking.

    The reply step's deadline timer records that silence with `as_system=True` (escalation.py, `_record_silence`).
    """

    if values.get("answer") == choices.ReplyAnswer.LAPSED:
        raise ValidationError(
            {"answer": _("Une offre ne devient caduque que d'elle-même (logement loué, condition non levée).")}
        )

    def write(case):
        proposal = current_proposal(case)
        reply = _record_reply(case, proposal, values)
        if reply.answer == choices.ReplyAnswer.ACCEPTED:
            return
        case.refusal_count += 1
        # Loss of DALO benefit needs an adapted offer, refused without a legitimate motive, by a
        # household told before the offer what refusing means (CE 374241): the committee rules on it
        # (and weighs a motive presumed neither way). Told after the offer: the préfet stays bound.
        if case.is_dalo and offers.dalo_informed_in_time(proposal) and reply.legitimate is not True:
            case.dalo_loss_review_pending = True
        case.save()

    reason = reason or "Réponse du ménage"
    return _complete_step(actor=actor, case=case, node_name="reply", reason=reason, write=write, as_system=as_system)


@receiver(events.reply_silence_due, dispatch_uid="workflows.record_silence")
def _record_silence(sender, case: Case, today: date, **kwargs) -> Proposal | None:
    """The reply step's deadline rule (escalation.py) found the deadline passed in silence: record it as a
    refusal, as the system actor. Answers the refused proposal, or None when it is not this household's
    turn yet (a better-ranked candidate holds the dwelling) or the step moved on."""
    proposal = current_proposal(case)
    try:
        reply_record(
            actor=system_actor(),
            case=case,
            values={"answer": choices.ReplyAnswer.NO_REPLY, "replied_on": today},
            as_system=True,
            reason="Silence du ménage après le délai : vaut refus",
        )
    except (StepConflict, ValidationError):
        return None
    return proposal


def _reply_as_system(case: Case, values: dict, reason: str) -> Case:
    """The system records a lapse nobody typed in (no refusal counted). Not reachable from pages or the
    API; silence worth refusal is recorded by the reply step's deadline timer through reply_record(as_system=True)."""

    def write(case):
        _record_reply(case, current_proposal(case), values)

    return _complete_step(
        actor=system_actor(), case=case, node_name="reply", reason=reason, write=write, as_system=True
    )


def _lapse_other_candidates(offer, winner: Proposal) -> None:
    """The dwelling is let: candidates still waiting for it go back to the proposal step, no refusal."""
    for proposal in offer.proposals.select_related("case").exclude(pk=winner.pk):
        case = proposal.case
        if case.status == choices.CaseStatus.REPLY and not hasattr(proposal, "reply"):
            if current_proposal(case) == proposal:
                _reply_as_system(
                    case,
                    {
                        "answer": choices.ReplyAnswer.LAPSED,
                        "replied_on": timezone.localdate(),
                        "comment": _("Logement attribué à un candidat mieux classé."),
                    },
                    "Offre caduque : logement loué",
                )


def lease_record(*, actor, case: Case, signed_on: date) -> Case:
    def write(case):
        proposal = current_proposal(case)
        decision = proposal.caleol_decision
        if signed_on < decision.decided_on:
            raise ValidationError({"signed_on": _("Le bail ne peut pas être signé avant la décision de la CALEOL.")})
        if decision.decision == choices.CaleolDecisionType.SUSPENSIVE_CONDITION and not decision.condition_met_on:
            raise ValidationError({"signed_on": _("La condition suspensive n'est pas levée : pièce manquante.")})
        # cases.history: the writer knows whether a tracked field changed, no need to read the last row.
        proposal._history_changed = proposal.lease_signed_on != signed_on
        proposal.lease_signed_on = signed_on
        proposal.save()
        _close(case, choices.ClosureReason.REHOUSED_SOCIAL)
        if proposal.offer_id:
            offer = offers.lock_offer(proposal.offer_id)
            offer.status = choices.OfferStatus.LET
            offer.closed_at = timezone.now()
            offer._history_changed = True  # closed now
            offer.save()
            _lapse_other_candidates(offer, proposal)

    return _complete_step(actor=actor, case=case, node_name="lease", reason="Bail signé", write=write)


def offers_sweep(today: date | None = None) -> dict:
    """Suspensive conditions whose document did not arrive by their deadline lapse by themselves: the
    candidate goes back to the proposal step (no refusal counted) and the dwelling passes to the next
    rank. Run by Celery beat or `manage.py offers_sweep`. Idempotent: each case is re-checked under
    its lock. (Silence past the reply deadline is the reply step's deadline timer's: workflows/escalation.py.)
    """
    today = today or timezone.localdate()
    counts = {"conditions_lapsed": 0}
    lapsing = CaleolDecision.objects.filter(
        decision=choices.CaleolDecisionType.SUSPENSIVE_CONDITION,
        condition_met_on__isnull=True,
        condition_lapsed_at__isnull=True,
        condition_deadline__lt=today,
        proposal__reply__isnull=True,
        proposal__case__status=choices.CaseStatus.REPLY,
    ).values_list("pk", "proposal__case_id")
    for decision_id, case_id in lapsing:
        try:
            with transaction.atomic():
                case = _lock_case(case_id)
                decision = CaleolDecision.objects.select_for_update().get(pk=decision_id)
                if decision.condition_lapsed_at or current_proposal(case).pk != decision.proposal_id:
                    continue
                with acting_as(system_actor(), "Condition suspensive caduque"):
                    decision.condition_lapsed_at = timezone.now()
                    decision.save()
                _reply_as_system(
                    case,
                    {
                        "answer": choices.ReplyAnswer.LAPSED,
                        "replied_on": today,
                        "comment": _("Pièce manquante non fournie avant le %(date)s.")
                        % {"date": decision.condition_deadline.strftime("%d/%m/%Y")},
                    },
                    "Condition suspensive caduque",
                )
                counts["conditions_lapsed"] += 1
        except (StepConflict, ValidationError):
            log.info("offers_sweep: case_id=%s skipped (moved on)", case_id)
    return counts


def case_close(*, actor, case: Case, reason: str, comment: str) -> Case:
    """Close a case at any step with a stated reason; open steps are cancelled."""
    if reason not in choices.ClosureReason.values:
        raise ValidationError({"reason": _("Motif de clôture inconnu.")})
    if not comment.strip():
        raise ValidationError({"comment": _("Expliquez en quelques mots pourquoi le dossier est clos.")})
    with audited(actor, "Clôture du dossier"):
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
    with audited(actor, "Enregistrement du ménage"):
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


def case_dalo_update(*, actor, case: Case, is_dalo: bool, comed_decision_date: date | None, reason: str = "") -> Case:
    """Change a case's DALO recognition or COMED decision date (Action.CHANGE). The préfet's deadline
    is recomputed by the one rule (Case.save, cases/deadlines.py: R441-16-1 CCH) in the same history row."""
    if is_dalo and not comed_decision_date:
        raise ValidationError(
            {"comed_decision_date": _("Pour un ménage DALO, la date de la décision de la COMED est obligatoire.")}
        )
    if comed_decision_date and comed_decision_date > timezone.localdate():
        raise ValidationError({"comed_decision_date": _("La décision de la COMED ne peut pas être dans le futur.")})
    with audited(actor, reason or "Décision de la COMED mise à jour"):
        case = _lock_case(case.pk)
        _require(actor, Action.CHANGE, case)
        if not case.is_open:
            raise StepConflict(_("Ce dossier est clos : sa décision COMED ne peut plus être modifiée."))
        case.is_dalo = is_dalo
        case.comed_decision_date = comed_decision_date if is_dalo else None
        case.full_clean(exclude=["status"])
        case.save()
    return case


def household_update(*, actor, case: Case, household: Household, members=(), deleted_members=()) -> Household:
    """Change the household of a case (Action.CHANGE on that case), members included."""
    with audited(actor, "Mise à jour du ménage"):
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
