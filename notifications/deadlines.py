"""When each open step is due, computed from the current data every time it is asked.

- A step is due `limit` calendar days after its task was created (limits per territory,
  StepTimeLimits), pushed back by the time the case's clock was paused, and moved to the next
  working day when it ends on a day off.
- The household's reply is due on the offer's reply deadline, never less than `reply_min_days`
  after the offer reached the household: after notification, or after delivery (or the first
  failed delivery) of a registered letter. That legal clock does not pause.

Nothing is stored: a pause, a new territory setting or a delivery date changes the due date at once,
which is why the deadline scan (not a viewflow timer fixed at task creation) drives reminders.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .calendar import next_working_day, working_days_between
from .models import ClockPause, OfferDelivery, StepTimeLimits


@dataclass(frozen=True)
class DueInfo:
    due_date: date | None
    overdue: bool = False
    paused: bool = False
    working_days_late: int = 0
    days_left: int | None = None
    waiting_delivery: bool = False

    @property
    def label(self) -> str:
        if self.paused:
            return _("Délai suspendu")
        if self.waiting_delivery:
            return _("Délai non commencé (lettre recommandée non remise)")
        if self.due_date is None:
            return ""
        due = self.due_date.strftime("%d/%m/%Y")
        if self.overdue:
            return ngettext(
                "En retard : échéance le %(due)s (%(n)d jour ouvré de retard)",
                "En retard : échéance le %(due)s (%(n)d jours ouvrés de retard)",
                self.working_days_late,
            ) % {"due": due, "n": self.working_days_late}
        return _("À faire avant le %(due)s") % {"due": due}


def departement_of(case) -> str | None:
    commune = case.household.commune
    return commune.departement if commune else None


def limits_for(departement: str | None) -> StepTimeLimits:
    return StepTimeLimits.objects.filter(pk=departement or "").first() or StepTimeLimits(departement=departement or "")


def _local_date(moment: datetime) -> date:
    return timezone.localdate(moment)


def paused_days(case, since: datetime, until: datetime) -> int:
    """Whole days (rounded up) during which the case's clock was paused between two moments."""
    total = timedelta()
    for pause in ClockPause.objects.filter(case=case, started_at__lt=until):
        start = max(pause.started_at, since)
        end = min(pause.ended_at or until, until)
        if end > start:
            total += end - start
    return math.ceil(total.total_seconds() / 86400)


def reply_due(proposal, limits: StepTimeLimits, departement: str | None) -> tuple[date | None, bool]:
    """(due date, waiting for the registered letter's delivery)."""
    delivery = OfferDelivery.objects.filter(proposal=proposal).first()
    if delivery and delivery.registered_letter:
        if not delivery.delivered_on:
            return None, True
        start = delivery.delivered_on
    else:
        start = proposal.notified_on
    if not start:
        return None, False
    floor = start + timedelta(days=limits.reply_min_days)
    due = max(proposal.reply_deadline or floor, floor)
    return next_working_day(due, departement), False


def due_info(task, *, case=None, now: datetime | None = None) -> DueInfo:
    """Due date and overdue flag of one open human task of the case flow."""
    now = now or timezone.now()
    today = _local_date(now)
    case = case or task.process.coerced.case
    if task.finished or not case.is_open:
        return DueInfo(None)
    node = task.flow_task.name
    departement = departement_of(case)
    limits = limits_for(departement)
    is_paused = False
    waiting = False
    if node == "reply":
        proposal = case.proposals.order_by("-created_at", "-pk").first()
        due, waiting = reply_due(proposal, limits, departement) if proposal else (None, False)
    else:
        days = limits.step_days(node)
        if days is None:
            return DueInfo(None)
        is_paused = ClockPause.objects.filter(case=case, ended_at__isnull=True).exists()
        start = _local_date(task.created)
        due = next_working_day(start + timedelta(days=days + paused_days(case, task.created, now)), departement)
    if due is None:
        return DueInfo(None, waiting_delivery=waiting)
    overdue = not is_paused and today > due
    return DueInfo(
        due_date=due,
        overdue=overdue,
        paused=is_paused,
        working_days_late=working_days_between(due, today, departement) if overdue else 0,
        days_left=(due - today).days,
    )


def current_task(case):
    from workflows.services import active_task

    return active_task(case)


def case_due_info(case, *, now: datetime | None = None) -> DueInfo:
    task = current_task(case)
    return due_info(task, case=case, now=now) if task else DueInfo(None)
