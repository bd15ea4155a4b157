"""The deadline rule of one open step: what is due now (reminder, escalation, silence worth refusal)
and when to look at the step again. The one place for that rule.

It runs from viewflow's database-backed timers (workflows/flows.py: a non-interrupting `.OnTimeout`
on each human step, then a `flow.Timer` loop), fired by Celery beat through `fire_due_timers()`.
A step's due date is recomputed from the current data on every look (deadlines.py), because it
moves: clock pauses push it back, a territory may change its limits, a registered letter's reply
clock starts at a delivery date recorded later. So a timer is only "look again at that moment"; if
the due date has moved, the look sends nothing and re-arms for the new moment.

Sending is idempotent (each notification has an idempotency key): looking twice, or late, is harmless.
"""

import logging
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from cases.calendar import working_days_between
from cases.models import Case

from . import events
from .deadlines import departement_of, due_info, limits_for
from .models import ACTIVE

log = logging.getLogger("ppgdid.notifications")

# Looks fall at 07:00 local time: a reminder reaches people at the start of their day, not at midnight.
LOOK_TIME = time(7, 0)
# Far enough for any escalation delay a territory may set (working days, holidays included).
HORIZON_DAYS = 400


def look_at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, LOOK_TIME))


def _case_of(task):
    return Case.objects.select_related("household__commune", "referent").get(processes__pk=task.process_id)


def _first_day(start: date, holds) -> date | None:
    day = start
    for _ in range(HORIZON_DAYS):
        if holds(day):
            return day
        day += timedelta(days=1)
    return None


def _record_silence(case, today: date, due: date) -> bool:
    """Silence past the reply deadline counts as a refusal (shared/domain.md, step 10). The rule does
    not write: the reply service answers `reply_silence_due` (services._record_silence) by recording
    it as the system actor, with history and reason, and returns the refused proposal. False if it is
    not this household's turn yet (a better-ranked candidate holds the dwelling) or the step moved on."""
    answers = events.reply_silence_due.send(sender=Case, case=case, today=today)
    proposal = next((refused for _receiver, refused in answers if refused is not None), None)
    if proposal is None:
        return False
    events.reply_silence_refusal.send(sender=Case, case=case, proposal=proposal, due=due)
    return True


def look(task, now: datetime | None = None, *, act: bool = True, counts=None, case=None, info=None) -> datetime | None:
    """Apply the rule to one open human step of the case flow (if `act`) and return when to look again.

    None: nothing is left to do for this step (escalated, refusal recorded, step or case closed).
    With `act=False` nothing is sent, and a step with something due now returns `now` (arming a timer).
    `case` and `info`: the case and the step's due date when the caller has them already (a step opened
    in the running transition).
    """
    now = now or timezone.now()
    if task.status not in ACTIVE:
        return None
    case = case or _case_of(task)
    if not case.is_open:
        return None
    departement = departement_of(case)
    limits = limits_for(departement)
    info = info or due_info(task, case=case, now=now, limits=limits)
    today = timezone.localdate(now)
    tomorrow = look_at(today + timedelta(days=1))
    if info.due_date is None or info.paused:
        # Clock paused, registered letter not delivered, offer not notified yet: the due date is not
        # known or moves every day, so look again tomorrow.
        return tomorrow
    due = info.due_date
    after_due = due + timedelta(days=1)
    if task.flow_task.name == "reply":
        if info.overdue:
            if not act:
                return now
            if _record_silence(case, today, due):
                _count(counts, "no_reply_refusals")
                return None
            return tomorrow  # not this household's turn yet: its silence cannot run
        warn_from = _first_day(
            today, lambda d: working_days_between(d, due, departement) <= limits.reply_warning_working_days
        )
        if warn_from is None or warn_from > due:
            return look_at(after_due)
        if warn_from > today:
            return look_at(warn_from)
        if not act:
            return now
        events.reply_due_soon.send(sender=Case, case=case, task=task, due=due)
        _count(counts, "reply_due_soon")
        return look_at(after_due)
    if not info.overdue:
        return look_at(after_due)
    escalate_from = _first_day(
        after_due, lambda d: working_days_between(due, d, departement) >= limits.escalate_after_working_days
    )
    if not act:
        return now
    events.step_overdue.send(
        sender=Case, case=case, task=task, due=due, level=1, working_days_late=info.working_days_late
    )
    _count(counts, "overdue")
    if escalate_from is None:  # escalation set beyond the horizon: the reminder is all there is
        return None
    if escalate_from > today:
        return look_at(escalate_from)
    events.step_overdue.send(
        sender=Case, case=case, task=task, due=due, level=2, working_days_late=info.working_days_late
    )
    _count(counts, "escalated")
    return None


def _count(counts, key: str) -> None:
    if counts is not None:
        counts[key] += 1
