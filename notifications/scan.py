"""The deadline scan (Celery beat, hourly): reminders, escalations, silence worth refusal, DALO clocks.

Why a scan rather than viewflow timers on the steps: a step's due date is not fixed when its task is
created. Clock pauses push it back, a territory may change its limits, and the reply clock of a
registered letter starts at a delivery date recorded later. A `flow.Timer`/`.OnTimeout` stores one
`scheduled` moment at activation, and an interrupting boundary would cancel the human task, which
must stay open while reminders go out. The scan recomputes due dates from the current data each run
and is idempotent (each reminder has an idempotency key), so running it twice, or late, is harmless.
viewflow's `fire_due_timers()` still runs from beat (notifications.fire_workflow_timers) for any
timer node the flow gains.
"""

import logging
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from cases import choices
from cases.audit import system_actor
from cases.models import Case

from . import events
from .calendar import working_days_between
from .deadlines import departement_of, due_info, limits_for

log = logging.getLogger("ppgdid.notifications")

ACTIVE = ("NEW", "ASSIGNED", "STARTED")


def _scan_task(task, now, counts: Counter) -> None:
    from workflows.services import StepConflict, current_proposal, reply_record

    case = Case.objects.select_related("household__commune", "referent").get(processes__pk=task.process_id)
    if not case.is_open:
        return
    info = due_info(task, case=case, now=now)
    if info.due_date is None or info.paused:
        return
    today = timezone.localdate(now)
    departement = departement_of(case)
    limits = limits_for(departement)
    if task.flow_task.name == "reply":
        if info.overdue:
            # Silence past the reply deadline counts as a refusal (shared/domain.md, step 10).
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
                # Not this household's turn yet (a better-ranked candidate holds the dwelling), or the
                # step moved on: nothing to record.
                return
            events.reply_silence_refusal(case, proposal, info.due_date)
            counts["no_reply_refusals"] += 1
        elif working_days_between(today, info.due_date, departement) <= limits.reply_warning_working_days:
            events.reply_due_soon(case, task, info.due_date)
            counts["reply_due_soon"] += 1
        return
    if info.overdue:
        events.step_overdue(case, task, info.due_date, 1, info.working_days_late)
        counts["overdue"] += 1
        if info.working_days_late >= limits.escalate_after_working_days:
            events.step_overdue(case, task, info.due_date, 2, info.working_days_late)
            counts["escalated"] += 1


def _scan_dalo(case, today, counts: Counter) -> None:
    days_left = (case.dalo_offer_deadline - today).days
    if days_left < 0:
        events.dalo_deadline(case, 0)
        counts["dalo_passed"] += 1
        return
    crossed = [w for w in limits_for(departement_of(case)).dalo_warnings() if days_left <= w]
    if crossed:
        # Only the tightest threshold: a case flagged 5 days before its deadline gets one warning.
        events.dalo_deadline(case, min(crossed))
        counts["dalo_warnings"] += 1


def scan_deadlines(now=None) -> dict:
    """Run once over every open step and every open DALO case. Returns what it did, by kind."""
    now = now or timezone.now()
    counts: Counter = Counter()
    tasks = (
        Task.objects.filter(
            flow_task_type="HUMAN",
            status__in=ACTIVE,
            process__caseprocess__case__closed_at__isnull=True,
        )
        .select_related("owner")
        .order_by("pk")
    )
    for task in tasks:
        try:
            with transaction.atomic():
                _scan_task(task, now, counts)
        except Exception:  # one broken case must not stop the scan of the others
            log.exception("deadline scan failed task_id=%s", task.pk)
            counts["errors"] += 1
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
