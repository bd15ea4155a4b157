"""What notifies: domain records whose creation notifies, and the events of the workflow
(workflows/events.py) and of the access model (permissions/events.py). Receivers run inside the
transaction of the change, so the outbox rows commit (or roll back) with it."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from viewflow.workflow.signals import task_finished

from cases.choices import OfferStatus, ReplyAnswer
from cases.models import CaleolDecision, Case, CommitteeReview, HouseholdReply, Proposal
from permissions.events import break_glass_opened
from workflows import events as workflow_events
from workflows.models import CaseProcess

from . import events
from .outbox import close_step_notices


@receiver(post_save, sender=CommitteeReview, dispatch_uid="notifications.committee_outcome")
def _committee_outcome(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        events.committee_outcome(instance)


@receiver(post_save, sender=Proposal, dispatch_uid="notifications.proposal_made")
def _proposal_made(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        events.proposal_made(instance)


@receiver(post_save, sender=Proposal, dispatch_uid="notifications.lease_signed")
def _lease_signed(sender, instance, created, raw=False, **kwargs):
    # The idempotency key keeps one notification per recipient if the proposal is saved again.
    if not created and not raw and instance.lease_signed_on:
        events.lease_signed(instance)


@receiver(post_save, sender=CaleolDecision, dispatch_uid="notifications.caleol_decided")
def _caleol_decided(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        events.caleol_decided(instance)


@receiver(post_save, sender=HouseholdReply, dispatch_uid="notifications.reply_recorded")
def _reply_recorded(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        events.reply_recorded(instance)


@receiver(post_save, sender=HouseholdReply, dispatch_uid="notifications.offer_passed_down")
def _offer_passed_down(sender, instance, created, raw=False, **kwargs):
    if created and not raw and instance.answer != ReplyAnswer.ACCEPTED:
        events.offer_passed_down(instance.proposal)


@receiver(task_finished, dispatch_uid="notifications.step_notices_done")
def _step_notices_done(sender, process, task, **kwargs):
    # Sent inside the transaction that completes the task: the notices are done with the step.
    if task.flow_task_type != "HUMAN":
        return
    case_id = getattr(process, "case_id", None)  # viewflow passes the CaseProcess it holds, mostly
    if case_id is None:
        case_id = CaseProcess.objects.filter(pk=process.pk).values_list("case_id", flat=True).first()
    if case_id is not None:
        close_step_notices(case_id, task.pk)


@receiver(post_save, sender=Case, dispatch_uid="notifications.closed_case_leaves_its_offers")
def _closed_case_leaves_its_offers(sender, instance, created, raw=False, **kwargs):
    # A closed case leaves the running for the dwellings it was waiting for.
    if created or raw or instance.closed_at is None:
        return
    close_step_notices(instance.pk)  # its open steps are cancelled: nothing left to do
    waiting = instance.proposals.filter(offer__status=OfferStatus.OPEN, reply__isnull=True)
    for proposal in waiting.select_related("offer"):
        events.offer_passed_down(proposal)


@receiver(break_glass_opened, dispatch_uid="notifications.break_glass")
def _break_glass(sender, case, actor, reason, event_id, **kwargs):
    events.notify_break_glass(case, actor, reason, event_id=event_id)


@receiver(workflow_events.step_opened, dispatch_uid="notifications.step_opened")
def _step_opened(sender, case, task, due=events.UNKNOWN, **kwargs):
    events.step_opened(case, task, due)


@receiver(workflow_events.reply_due_soon, dispatch_uid="notifications.reply_due_soon")
def _reply_due_soon(sender, case, task, due, **kwargs):
    events.reply_due_soon(case, task, due)


@receiver(workflow_events.step_overdue, dispatch_uid="notifications.step_overdue")
def _step_overdue(sender, case, task, due, level, working_days_late, **kwargs):
    events.step_overdue(case, task, due, level, working_days_late)


@receiver(workflow_events.reply_silence_refusal, dispatch_uid="notifications.reply_silence_refusal")
def _reply_silence_refusal(sender, case, proposal, due, **kwargs):
    events.reply_silence_refusal(case, proposal, due)


@receiver(workflow_events.dalo_deadline, dispatch_uid="notifications.dalo_deadline")
def _dalo_deadline(sender, case, days_before, **kwargs):
    events.dalo_deadline(case, days_before)


@receiver(workflow_events.note_mentioned, dispatch_uid="notifications.note_mentioned")
def _note_mentioned(sender, case, note, mentioned, **kwargs):
    events.note_mentioned(case, note, mentioned)
