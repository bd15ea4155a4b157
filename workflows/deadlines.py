"""When each open step is due, computed from the current data every time it is asked.

- A step is due `limit` calendar days after its task was created (limits per territory,
  StepTimeLimits), pushed back by the time the case's clock was paused, and moved to the next
  working day when it ends on a day off.
- The household's reply is due on the offer's reply deadline, the legal one computed by
  cases/deadlines.py (R441-10 CCH, counted as the Code de procédure civile counts): from the
  notification, or the delivery (or first failed delivery) of a registered letter. That legal
  clock does not pause.

Nothing is stored: a pause, a new territory setting or a delivery date changes the due date at once.
The steps' deadline timers (escalation.py) therefore only mean "look again then": each look recomputes
the due date here and re-arms for the new moment.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases import deadlines as legal
from cases.calendar import next_working_day, working_days_between
from cases.models import ClockPause, Commune, Household, Proposal
from cases.territory import StepTimeLimits

from .locking import memo


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
    # Read once per transition (workflows/locking.py): the due date and the timer's next look both ask.
    return memo(
        ("limits", departement or ""),
        lambda: (
            StepTimeLimits.objects.filter(pk=departement or "").first() or StepTimeLimits(departement=departement or "")
        ),
    )


def _local_date(moment: datetime) -> date:
    return timezone.localdate(moment)


def _paused_days(pauses, since: datetime, until: datetime) -> int:
    """Whole days (rounded up) during which the clock was paused between two moments."""
    total = timedelta()
    for pause in pauses:
        start = max(pause.started_at, since)
        end = min(pause.ended_at or until, until)
        if end > start:
            total += end - start
    return math.ceil(total.total_seconds() / 86400)


def reply_due(proposal, departement: str | None) -> tuple[date | None, bool]:
    """(due date, waiting for the registered letter's delivery): the one rule of cases/deadlines.py."""
    due = legal.reply_due(proposal, departement)
    return due, due is None and proposal.registered_letter


def _compute(task, case, *, departement, limits, pauses, proposal, now) -> DueInfo:
    if task.finished or not case.is_open:
        return DueInfo(None)
    today = _local_date(now)
    node = task.flow_task.name
    is_paused = False
    if node == "reply":
        if proposal is None:
            return DueInfo(None)
        due, waiting = reply_due(proposal, departement)
        if due is None:
            return DueInfo(None, waiting_delivery=waiting)
    else:
        days = limits.step_days(node)
        if days is None:
            return DueInfo(None)
        is_paused = any(p.ended_at is None for p in pauses)
        start = _local_date(task.created)
        due = next_working_day(start + timedelta(days=days + _paused_days(pauses, task.created, now)), departement)
    overdue = not is_paused and today > due
    return DueInfo(
        due_date=due,
        overdue=overdue,
        paused=is_paused,
        working_days_late=working_days_between(due, today, departement) if overdue else 0,
        days_left=(due - today).days,
    )


def due_info(task, *, case=None, now: datetime | None = None, limits: StepTimeLimits | None = None) -> DueInfo:
    """Due date and overdue flag of one open human task of the case flow (`limits`: the case's
    département limits, when the caller has read them already)."""
    case = case or task.process.coerced.case
    departement = departement_of(case)
    proposal = None
    if task.flow_task.name == "reply":
        proposal = case.proposals.order_by("-created_at", "-pk").first()
    return _compute(
        task,
        case,
        departement=departement,
        limits=limits or limits_for(departement),
        pauses=list(ClockPause.objects.filter(case=case)),
        proposal=proposal,
        now=now or timezone.now(),
    )


def due_infos(tasks, *, now: datetime | None = None) -> dict:
    """{task pk: DueInfo} for a list of tasks, in a fixed number of queries (task lists)."""
    tasks = list(tasks)
    cases = {t.pk: t.process.caseprocess.case for t in tasks}
    # Lists that select_related the household's commune spare the query.
    loaded = {c.household.commune for c in cases.values() if Household.commune.is_cached(c.household)}
    communes = {commune.pk: commune for commune in loaded if commune is not None}
    wanted = {c.household.commune_id for c in cases.values() if c.household.commune_id} - set(communes)
    if wanted:
        communes |= Commune.objects.in_bulk(wanted)
    departements = {
        c.pk: communes[c.household.commune_id].departement if c.household.commune_id in communes else None
        for c in cases.values()
    }
    stored = StepTimeLimits.objects.in_bulk({d or "" for d in departements.values()})
    pauses: dict = {}
    for pause in ClockPause.objects.filter(case__in={c.pk for c in cases.values()}) if cases else ():
        pauses.setdefault(pause.case_id, []).append(pause)
    reply_case_ids = {cases[t.pk].pk for t in tasks if t.flow_task.name == "reply"}
    proposals: dict = {}
    if reply_case_ids:
        for proposal in Proposal.objects.filter(case__in=reply_case_ids).order_by("created_at", "pk"):
            proposals[proposal.case_id] = proposal  # the latest wins
    now = now or timezone.now()
    result = {}
    with legal.settings_preloaded(departements.values() if proposals else ()):  # reply deadlines: one query
        for task in tasks:
            case = cases[task.pk]
            departement = departements[case.pk]
            proposal = proposals.get(case.pk)
            result[task.pk] = _compute(
                task,
                case,
                departement=departement,
                limits=stored.get(departement or "") or StepTimeLimits(departement=departement or ""),
                pauses=pauses.get(case.pk, []),
                proposal=proposal,
                now=now,
            )
    return result


def step_due_info(task, case) -> DueInfo:
    """`due_info` of a step opened in the running transition, computed once for it (workflows/locking.py):
    the notification of the opened step and the arming of its deadline timer share it."""
    return memo(("due", task.pk), lambda: due_info(task, case=case))
