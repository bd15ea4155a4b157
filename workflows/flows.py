"""The priority-case flow: flag → diagnostic → committee → proposal → CALEOL → reply → lease.

The flow only routes. Each human step is completed by a workflow service (workflows/services.py)
that checks the policy and the step grant, writes the domain record, then executes the task; the
switches below read those records to choose the next step.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from cases.choices import CaleolDecisionType, CaseStatus, CommitteeOutcome, ReplyAnswer
from notifications.events import step_opened
from permissions.grants import grant_step

from .models import CaseProcess


def case_of(process):
    # viewflow passes the base Process on some paths: always go through .coerced.
    return process.coerced.case


def fresh_case(activation):
    # Re-read: the process may hold a copy of the case from before the step's service wrote to it.
    from cases.models import Case

    return Case.objects.select_related("household").get(pk=activation.process.coerced.case_id)


def not_served(request, *args, **kwargs):
    """Steps are done on our own pages (workflows/views.py), never through viewflow's views."""
    raise Http404


# node name → (object permission needed, status shown on the case while the step is open)
STEPS = {
    "diagnostic": ("do_diagnostic", CaseStatus.DIAGNOSTIC),
    "committee": ("review_in_committee", CaseStatus.COMMITTEE),
    "proposal": ("make_proposal", CaseStatus.PROPOSAL),
    "caleol": ("record_caleol", CaseStatus.CALEOL),
    "reply": ("record_reply", CaseStatus.REPLY),
    "lease": ("record_lease", CaseStatus.LEASE),
}


def human_step(name: str, title):
    codename, _status = STEPS[name]
    return (
        flow.View(not_served)
        .Permission(f"cases.{codename}", obj=case_of)
        .Annotation(title=title)
        .onCreate(this.step_created)
    )


class CaseFlow(flow.Flow):
    """Parcours d'un ménage prioritaire"""

    process_class = CaseProcess
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.diagnostic)

    diagnostic = human_step("diagnostic", _("Diagnostic social")).Next(this.committee)
    committee = human_step("committee", _("Examen en commission")).Next(this.after_committee)
    after_committee = (
        flow.Switch()
        .Case(this.diagnostic, this.is_adjourned)
        .Case(this.proposal, this.goes_to_proposal)
        .Default(this.closed)
    )
    proposal = human_step("proposal", _("Proposition de logement")).Next(this.caleol)
    caleol = human_step("caleol", _("Décision CALEOL")).Next(this.after_caleol)
    after_caleol = (
        flow.Switch()
        .Case(this.reply, this.is_allocated)
        .Case(this.proposal, this.is_not_allocated)
        .Default(this.closed)
    )
    reply = human_step("reply", _("Réponse du ménage")).Next(this.after_reply)
    after_reply = (
        flow.Switch()
        .Case(this.lease, this.is_accepted)
        .Case(this.committee, this.needs_dalo_loss_review)
        .Default(this.proposal)
    )
    lease = human_step("lease", _("Signature du bail")).Next(this.rehoused)

    rehoused = flow.End()
    closed = flow.End()

    def start_process(self, activation, case):
        activation.process.case = case
        return activation.process

    def step_created(self, activation):
        case = fresh_case(activation)
        codename, status = STEPS[activation.flow_task.name]
        case.status = status
        case.save(update_fields=["status"])
        grant_step(case, codename)
        step_opened(case, activation.task)  # in this transaction: the outbox row commits with the step

    # Switch conditions read the record the step's service has just written.
    def _last_review(self, activation):
        return fresh_case(activation).committee_reviews.order_by("-decided_at", "-pk").first()

    def is_adjourned(self, activation):
        return self._last_review(activation).outcome == CommitteeOutcome.ADJOURNED

    def goes_to_proposal(self, activation):
        case = fresh_case(activation)
        return case.is_open and (
            self._last_review(activation).outcome == CommitteeOutcome.LABELLED
            or self._last_review(activation).dalo_benefit_lost is False
        )

    def _last_decision(self, activation):
        return fresh_case(activation).proposals.order_by("-created_at", "-pk").first().caleol_decision

    def is_allocated(self, activation):
        return self._last_decision(activation).is_allocation

    def is_not_allocated(self, activation):
        return self._last_decision(activation).decision == CaleolDecisionType.NOT_ALLOCATED

    def is_accepted(self, activation):
        proposal = fresh_case(activation).proposals.order_by("-created_at", "-pk").first()
        return proposal.reply.answer == ReplyAnswer.ACCEPTED

    def needs_dalo_loss_review(self, activation):
        return fresh_case(activation).dalo_loss_review_pending
