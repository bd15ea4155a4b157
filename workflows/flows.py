"""The priority-case flow: flag → diagnostic → committee → proposal → CALEOL → reply → lease.

The flow only routes. Each human step is completed by a workflow service (workflows/services.py)
that checks the policy and the step grant, writes the domain record, then executes the task; the
switches below read those records to choose the next step.

Deadlines: each human step carries a non-interrupting timer boundary (`.OnTimeout(...,
interrupting=False)`, viewflow's database-backed timers fired by Celery beat through
`fire_due_timers()`). It fires at the step's next deadline moment and starts a side branch that
applies the rule (workflows/escalation.py: reminder, escalation, silence worth refusal) while the
step stays open, then either waits again (`watch_wait`, a `flow.Timer` whose moment is recomputed,
because due dates move with clock pauses and delivery dates) or stops (`watch_stop`, a node without
outgoing edge). The branch never reaches a `flow.End`: an End reached while the step is open does not
cancel it in viewflow 2.4, but it would show as "parcours terminé" in the case timeline, and the
process must finish only through rehoused/closed. When the step finishes, its boundary
(`StepDeadline`, viewflow's timer boundary with fewer queries) cancels its own row and the pending
`watch_wait` rows of its branch, so no SCHEDULED timer outlives its step (an End counts unfinished
rows before marking the process done).
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.flow.nodes import TimerBoundary
from viewflow.workflow.models import Task
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.status import STATUS

from cases.choices import CaseStatus, CommitteeOutcome, ReplyAnswer
from cases.models import Case
from permissions.grants import grant_step

from . import events
from .deadlines import step_due_info
from .escalation import look
from .locking import held_case, memo
from .models import CaseProcess

log = logging.getLogger("ppgdid.workflows")


def case_of(process):
    # viewflow passes the base Process on some paths: always go through .coerced. The case locked by
    # the running transition, when there is one, is not read again (workflows/locking.py).
    coerced = process.coerced
    return held_case(coerced.case_id) or coerced.case


def fresh_case(activation):
    # The instance the running service locked and wrote (workflows/locking.py); else re-read once per
    # activation: the process may hold a copy of the case from before the step's service wrote to it;
    # a switch asks several conditions of the same activation.
    case_id = activation.process.coerced.case_id
    held = held_case(case_id)
    if held is not None:
        return held
    return _memo(
        activation,
        "case",
        lambda: Case.objects.select_related("household").get(pk=case_id),
    )


def _memo(activation, key, compute):
    memo = activation.__dict__.setdefault("_ppgdid_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def not_served(request, *args, **kwargs):
    """Steps are done on our own pages (web/tasks/views.py), never through viewflow's views."""
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


class StepDeadline(TimerBoundary):
    """The deadline boundary of a human step (viewflow's `.OnTimeout`, same node name `<step>__timeout`).

    When its step finishes it cancels, in one query and without reading the process again, its own
    pending row and the `watch_wait` rows of the step's branch (a plain Timer is not cancelled with
    its step: a SCHEDULED row left would keep the process from finishing)."""

    def _arm(self, host_activation):
        """viewflow's arming (INSERT the row, then SAVEPOINT, UPDATE it to SCHEDULED, RELEASE) in one
        INSERT of the row already scheduled: its moment (`watch_moment`) is computed before it is written."""
        task = self.flow_class.task_class(
            process=host_activation.process, flow_task=self, token=host_activation.task.token
        )
        task.data = {}
        task.seed = None
        activation = self.activation_class(task)
        activation.host_task = host_activation.task  # the step it looks after (watch_moment), row not written yet
        scheduled = None
        with activation.exception_guard():  # as viewflow: an ERROR row when the flow does not propagate
            moment = self._delay(activation) if callable(self._delay) else self._delay
            if isinstance(moment, timedelta):
                moment = timezone.now() + moment
            if not isinstance(moment, datetime):
                raise ValueError(f"Timer delay must be a timedelta or datetime, got {moment!r}")
            scheduled = moment
        if scheduled is not None:
            task.scheduled = scheduled
            task.status = STATUS.SCHEDULED
            task.save()
        task.previous.add(host_activation.task)

    def _on_host_finished(self, **signal_kwargs):
        host_task = signal_kwargs["task"]
        if host_task.flow_task != self._attached_to:
            return
        flow_class = self.flow_class
        pending = (
            flow_class.task_class._default_manager.filter(process_id=host_task.process_id)
            .filter(
                Q(flow_task=self, previous=host_task)
                | Q(flow_task=flow_class.watch_wait, status="SCHEDULED", data__watched_task=host_task.pk)
            )
            .exclude(status__in=[STATUS.DONE, STATUS.CANCELED, STATUS.REVIVED, STATUS.ERROR])
            .distinct()
        )
        for timer in pending:
            timer.process = host_task.process  # the process the step's activation holds: no read again
            activation = timer.flow_task.activation_class(timer)
            if activation.cancel.can_proceed():
                activation.cancel()


class RouteActivation(SwitchActivation):
    @Activation.status.super()
    def activate(self):
        """viewflow's Switch activation without its savepoint: the conditions only read (the records the
        step's service has just written) in the service's transaction, which fails as a whole."""
        with self.exception_guard():
            for node, cond in self.flow_task._branches:
                if cond:
                    if cond(self):
                        self.next_task = node
                        break
                else:
                    self.next_task = node
            if not self.next_task:
                raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")


class Route(flow.Switch):
    """The flow's switches (same node type and names as viewflow's Switch)."""

    activation_class = RouteActivation


def human_step(name: str, title):
    codename, _status = STEPS[name]
    node = (
        flow.View(not_served)
        .Permission(f"cases.{codename}", obj=case_of)
        .Annotation(title=title)
        .onCreate(this.step_created)
    )
    # As `.OnTimeout(this.watch_moment, this.watch_step, interrupting=False, title=...)`, with StepDeadline.
    deadline = StepDeadline(None, delay=this.watch_moment, interrupting=False).Next(this.watch_step)
    deadline.Annotation(title=_("Échéance"))
    node._boundary_specs.append(("timeout", deadline))
    return node


def watched_task(task):
    """The human step a deadline-branch task looks after.

    The boundary's previous task is the step itself; the later tasks of the branch carry its id in
    their data (set by `watch_moment` and `look_at_step`), at most two hops back.
    """
    for _hop in range(4):
        if task.flow_task_type == "HUMAN":
            return task
        if "watched_task" in (task.data or {}):
            return Task.objects.get(pk=task.data["watched_task"])
        task = task.previous.order_by("-pk").first()
        if task is None:
            break
    return None


class WatchTimer(flow.Timer):
    """The "look again" timer of a deadline branch. Unlike a boundary, a plain Timer is not cancelled
    when its step finishes: the step's StepDeadline cancels it with its own row."""


RETRY_AFTER_FAILURE = timedelta(hours=1)


def _look_of(task):
    """The last `watch_step` task before this one in its branch (one or two hops back)."""
    while task.flow_task_type != "FUNCTION":
        task = task.previous.order_by("-pk").first()
    return task


class CaseFlow(flow.Flow):
    """Parcours d'un ménage prioritaire"""

    process_class = CaseProcess
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.diagnostic)

    diagnostic = human_step("diagnostic", _("Diagnostic social")).Next(this.committee)
    committee = human_step("committee", _("Examen en commission")).Next(this.after_committee)
    after_committee = (
        Route().Case(this.diagnostic, this.is_adjourned).Case(this.proposal, this.goes_to_proposal).Default(this.closed)
    )
    proposal = human_step("proposal", _("Proposition de logement")).Next(this.caleol)
    caleol = human_step("caleol", _("Décision CALEOL")).Next(this.after_caleol)
    after_caleol = (
        Route().Case(this.reply, this.is_allocated).Case(this.proposal, this.is_not_allocated).Default(this.closed)
    )
    reply = human_step("reply", _("Réponse du ménage")).Next(this.after_reply)
    after_reply = (
        Route()
        .Case(this.lease, this.is_accepted)
        .Case(this.committee, this.needs_dalo_loss_review)
        .Default(this.proposal)
    )
    lease = human_step("lease", _("Signature du bail")).Next(this.rehoused)

    rehoused = flow.End()
    closed = flow.End()

    # The deadline branch of every human step (see the module docstring).
    watch_step = flow.Function(this.look_at_step).Next(this.watch_route)
    watch_route = flow.If(this.watch_again).Then(this.watch_wait).Else(this.watch_stop)
    watch_wait = WatchTimer(this.watch_moment).Next(this.watch_step)
    watch_stop = flow.Function(this.stop_watching)

    def start_process(self, activation, case):
        activation.process.case = case
        return activation.process

    def step_created(self, activation):
        case = fresh_case(activation)
        codename, status = STEPS[activation.flow_task.name]
        if case.status != status:
            case._history_changed = True  # cases.history: the status differs from the last history row's
        case.status = status
        if case.__dict__.pop("_save_with_step", False):  # the transition's other changes too (services.save_with_step)
            case.save()
        else:
            case.save(update_fields=["status"])
        grant_step(case, codename)
        # Its deadline boundary, armed next in this transition, looks after this task (watch_moment).
        memo(("opened_step", case.pk, activation.flow_task.name), lambda: activation.task)
        # In this transaction: what subscribers write (the outbox rows) commits with the step. The due
        # date is computed once for the transition: the step's deadline timer is armed from it.
        due = step_due_info(activation.task, case).due_date
        events.step_opened.send(sender=Case, case=case, task=activation.task, due=due)

    # Deadline branch. `watch_moment` is the delay of the boundary and of `watch_wait`: evaluated when
    # the timer row is created, it returns the next moment worth a look (now if something is due).
    def watch_moment(self, activation):
        host = getattr(activation.flow_task, "_attached_to", None)  # the boundary's step, not a WatchTimer
        opened = host and memo(("opened_step", activation.process.coerced.case_id, host.name), lambda: None)
        step = getattr(activation, "host_task", None) or opened or watched_task(activation.task)
        activation.task.data = {**(activation.task.data or {}), "watched_task": step.pk}
        if isinstance(activation.flow_task, WatchTimer):
            # watch_wait after a look: the look has just computed the moment.
            moment = _look_of(activation.task).data.get("next_look")
            return datetime.fromisoformat(moment) if moment else timezone.now()
        held = held_case(activation.process.coerced.case_id)
        if held is not None:  # the step opens in this transition: its due date is known already, no query
            return look(step, act=False, case=held, info=step_due_info(step, held)) or timezone.now()
        try:
            with transaction.atomic():
                return look(step, act=False) or timezone.now()
        except Exception:  # the deadline must never keep a step from opening: look again later
            log.exception("deadline timer arming failed task_id=%s", step.pk)
            return timezone.now() + RETRY_AFTER_FAILURE

    def look_at_step(self, activation):
        step = watched_task(activation.task)
        now = timezone.now()
        try:
            with transaction.atomic():
                moment = look(step, now) if step else None
        except Exception:  # a failing look must not leave an ERROR task that keeps the process open
            log.exception("deadline look failed task_id=%s", step.pk)
            moment = now + RETRY_AFTER_FAILURE
        activation.task.data = {
            "watched_task": step.pk if step else None,
            "next_look": moment.isoformat() if moment else None,
        }
        activation.task.save()

    def watch_again(self, activation):
        return bool(_look_of(activation.task).data.get("next_look"))

    def stop_watching(self, activation):
        """End of a deadline branch: nothing left to do for the step (or it finished). The mark tells
        the hourly scan not to arm the step again."""
        step = watched_task(activation.task)
        activation.task.data = {"watched_task": step.pk if step else None}
        activation.task.save()

    # Switch conditions read the record the step's service has just written.
    def _last_review(self, activation):
        return _memo(
            activation,
            "review",
            lambda: fresh_case(activation).committee_reviews.order_by("-decided_at", "-pk").first(),
        )

    def is_adjourned(self, activation):
        return self._last_review(activation).outcome == CommitteeOutcome.ADJOURNED

    def goes_to_proposal(self, activation):
        case = fresh_case(activation)
        return case.is_open and (
            self._last_review(activation).outcome == CommitteeOutcome.LABELLED
            or self._last_review(activation).dalo_benefit_lost is False
        )

    def _last_proposal(self, activation):
        return _memo(
            activation,
            "proposal",
            lambda: (
                fresh_case(activation)
                .proposals.select_related("caleol_decision", "reply")
                .order_by("-created_at", "-pk")
                .first()
            ),
        )

    def _last_decision(self, activation):
        return self._last_proposal(activation).caleol_decision

    def is_allocated(self, activation):
        return self._last_decision(activation).is_allocation

    def is_not_allocated(self, activation):
        # Not allocated, or inadmissible for this dwelling only (its income ceiling): the case goes on.
        return self._last_decision(activation).returns_to_proposal

    def is_accepted(self, activation):
        return self._last_proposal(activation).reply.answer == ReplyAnswer.ACCEPTED

    def needs_dalo_loss_review(self, activation):
        return fresh_case(activation).dalo_loss_review_pending
