"""The hourly safety net (Celery beat): DALO offer clocks, and the deadline timers kept in step.

Reminders, escalations and silence worth refusal on the open steps are driven by viewflow's
database-backed timers (workflows/flows.py, rule in escalation.py), fired every minute by beat
through `fire_due_timers()` below (viewflow's loop, bounded per run). This scan only:

- warns about DALO offer deadlines (30 and 7 days before, then passed): a clock of the case, tied to
  no step;
- arms the deadline timer of an open step that has none while something is still to come (steps
  created before the timers existed, rows written outside the flow engine such as generated data);
  a step whose branch stopped (everything sent) is left alone;
- pulls a timer forward when the step's next deadline moment has moved earlier than the stored one
  (a territory shortened a limit, a paused clock resumed, a delivery date was recorded): timers store
  one moment when armed, due dates are recomputed from the current data.

Idempotent: arming checks for a pending timer under the flow lock, and every notification has an
idempotency key, so running it twice, or late, is harmless.
"""

import logging
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from cases.models import Case

from . import events
from .deadlines import departement_of, limits_for
from .escalation import look
from .flows import CaseFlow
from .models import ACTIVE

log = logging.getLogger("ppgdid.notifications")


def _pending_watches(step_ids=None) -> dict:
    """{step pk: [its SCHEDULED deadline timers]}: the boundary (previous = the step) and the later
    waits of its branch (data["watched_task"] = the step). Two queries for all steps."""
    timers = Task.objects.filter(flow_task_type="TIMER", status="SCHEDULED").prefetch_related("previous")
    if step_ids is not None:
        timers = timers.filter(process__task__pk__in=step_ids).distinct()
    pending: dict = {}
    for timer in timers:
        watched = (timer.data or {}).get("watched_task")
        owners = {watched} if watched else {t.pk for t in timer.previous.all()}
        for owner in owners:
            pending.setdefault(owner, []).append(timer)
    return pending


def _stopped(step_ids=None) -> set:
    """Steps whose deadline branch has stopped: all was sent (escalation), nothing left to arm."""
    marks = Task.objects.filter(flow_task=CaseFlow.watch_stop)
    if step_ids is not None:
        marks = marks.filter(process__task__pk__in=step_ids)
    return {int(pk) for pk in marks.values_list("data__watched_task", flat=True) if pk is not None}


def _needs_work(moment, timers) -> bool:
    if not timers:
        return moment is not None
    return moment is not None and any(t.scheduled > moment for t in timers)


def _keep_watch(step, now, counts: Counter) -> None:
    """Under the flow lock, with a fresh look: arm the step's timer, or move it earlier."""
    with CaseFlow.lock(step.process_id), transaction.atomic():
        step.refresh_from_db()
        if step.pk in _stopped([step.pk]):
            return
        moment = look(step, now, act=False)
        timers = _pending_watches([step.pk]).get(step.pk, [])
        if not _needs_work(moment, timers):
            return
        if not timers:
            boundary = getattr(CaseFlow, f"{step.flow_task.name}__timeout")
            boundary._arm(step.flow_task.activation_class(step))
            counts["timers_armed"] += 1
            return
        for timer in timers:
            if timer.scheduled > moment:
                timer.scheduled = moment
                timer.save(update_fields=["scheduled"])
                counts["timers_moved_earlier"] += 1


def keep_watches(now=None, counts: Counter | None = None, limit: int | None = None) -> Counter:
    """Every open step of the case flow has a deadline timer no later than its next deadline moment.

    Reads without locks; only a step that needs a change is locked and looked at again. At most `limit`
    changes per run (settings.PPGDID_SCAN_BATCH): a territory whose steps all moved (or were loaded
    late) must not have all their timers made due at once; the next runs carry on where it stopped,
    since a step fixed no longer needs work.
    """
    now = now or timezone.now()
    counts = Counter() if counts is None else counts
    limit = settings.PPGDID_SCAN_BATCH if limit is None else limit
    steps = Task.objects.filter(
        flow_task_type="HUMAN",
        status__in=ACTIVE,
        process__caseprocess__case__closed_at__isnull=True,
    ).order_by("pk")
    pending = _pending_watches()
    stopped = _stopped()
    for step in steps:
        if counts["timers_armed"] + counts["timers_moved_earlier"] >= limit:
            counts["left_for_next_run"] = 1
            break
        if step.pk in stopped:
            continue
        try:
            if _needs_work(look(step, now, act=False), pending.get(step.pk, [])):
                _keep_watch(step, now, counts)
        except Exception:  # one broken case must not stop the scan of the others
            log.exception("deadline timer upkeep failed task_id=%s", step.pk)
            counts["errors"] += 1
    return counts


def _scan_dalo(case, today, counts: Counter) -> None:
    days_left = (case.dalo_offer_deadline - today).days
    if days_left < 0:
        events.dalo_deadline.send(sender=Case, case=case, days_before=0)
        counts["dalo_passed"] += 1
        return
    crossed = [w for w in limits_for(departement_of(case)).dalo_warnings() if days_left <= w]
    if crossed:
        # Only the tightest threshold: a case flagged 5 days before its deadline gets one warning.
        events.dalo_deadline.send(sender=Case, case=case, days_before=min(crossed))
        counts["dalo_warnings"] += 1


def scan_deadlines(now=None) -> dict:
    """Run once over every open step (timer upkeep) and every open DALO case. Returns what it did."""
    now = now or timezone.now()
    counts = keep_watches(now)
    today = timezone.localdate(now)
    dalo_cases = Case.objects.filter(is_dalo=True, closed_at__isnull=True, dalo_offer_deadline__isnull=False)
    for case in dalo_cases.select_related("household__commune", "referent"):
        try:
            with transaction.atomic():
                _scan_dalo(case, today, counts)
        except Exception:
            log.exception("DALO scan failed case_id=%s", case.pk)
            counts["errors"] += 1
    return dict(counts)


def fire_due_timers(limit: int | None = None) -> int:
    """viewflow's `fire_due_timers()`, at most `limit` (settings.PPGDID_TIMERS_BATCH) per run, the
    longest due first: a burst of due timers (thousands of overdue steps) is spread over the next
    runs instead of holding a worker, and the mail queue, for as long as it takes. The rest stay
    scheduled and due: the next run (a minute later) takes them. Same loop as viewflow's, each timer
    re-checked under its flow lock, one broken flow not stopping the others."""
    from viewflow.workflow.exceptions import FlowLockFailed

    limit = settings.PPGDID_TIMERS_BATCH if limit is None else limit
    due = Task.objects.filter(flow_task_type="TIMER", status="SCHEDULED", scheduled__lte=timezone.now())
    fired = 0
    for task in due.order_by("scheduled", "pk")[:limit]:
        try:
            with task.activation() as activation:
                start = getattr(activation, "start", None)
                if start is None:  # node renamed or removed since the timer was scheduled
                    log.warning("timer of a missing node skipped task_id=%s", task.pk)
                    continue
                if start.can_proceed():
                    activation.start()
                    activation.execute()
                    fired += 1
        except FlowLockFailed:
            log.info("timer locked by another dispatcher, skipped task_id=%s", task.pk)
        except Exception:
            log.exception("timer failed to fire task_id=%s", task.pk)
    return fired


def fire_timers(limit: int | None = None) -> tuple:
    """viewflow's database-backed timers (the steps' deadline timers among them), at most `limit` step
    timers per run. Run from ONE beat instance: `fire_due_start_timers()` is not locked."""
    from viewflow.workflow.timers import fire_due_conditions, fire_due_start_timers

    return fire_due_timers(limit), fire_due_start_timers(), fire_due_conditions()
