"""Read-side helpers for the step pages. The task lists themselves are in permissions.queues."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from cases import choices, deadlines, offers
from cases.models import Case, Proposal

from .deadlines import DueInfo, due_info, due_infos
from .flows import CaseFlow
from .models import ACTIVE


def can_do(user, task: Task) -> bool:
    """May the user open and complete this step now (own it, or may take it)?"""
    if task.owner_id is not None:
        return task.flow_task.can_execute(user, task)
    return task.flow_task.can_assign(user, task)


def active_task(case: Case, node_name: str | None = None) -> Task | None:
    """The case's open human step (of that node, if given), the latest if several."""
    tasks = Task.objects.filter(process__caseprocess__case=case, status__in=ACTIVE, flow_task_type="HUMAN")
    if node_name:
        tasks = tasks.filter(flow_task=getattr(CaseFlow, node_name))
    return tasks.order_by("-created").first()


def current_proposal(case: Case, *related: str) -> Proposal | None:
    """The case's latest proposal, with its dwelling and offer (and `related`, e.g. its decision and reply)."""
    return (
        case.proposals.select_related("dwelling", "dwelling__commune", "offer", *related)
        .order_by("-created_at", "-pk")
        .first()
    )


def case_due_info(case, *, now=None) -> DueInfo:
    """Due date of the case's open step (workflows/deadlines.py), none when no step is open."""
    task = active_task(case)
    return due_info(task, case=case, now=now) if task else DueInfo(None)


# How many open steps a due-date filter or sort looks at (oldest first): the due date is computed in
# Python (deadlines.py), never stored, so lists bound the work instead of reading every open step.
DUE_SCAN_CAP = 1000


def open_steps_due(cases: QuerySet, *, limit: int = DUE_SCAN_CAP, now=None) -> list[tuple[int, Task, DueInfo]]:
    """(case pk, open human step, its DueInfo) for the open steps of `cases` (a queryset, used as a
    subquery), oldest step first, at most `limit`: the worklists' due filters, sorts and columns.
    A fixed number of queries: the steps, then those of deadlines.due_infos."""
    tasks = list(
        Task.objects.filter(
            process__caseprocess__case__in=cases.order_by().values("pk"), status__in=ACTIVE, flow_task_type="HUMAN"
        )
        .select_related("process__caseprocess__case__household__commune")
        .order_by("created", "pk")[:limit]
    )
    infos = due_infos(tasks, now=now)
    return [(t.process.caseprocess.case_id, t, infos[t.pk]) for t in tasks]


def done_steps(case) -> QuerySet:
    """Steps already finished or cancelled on the case, oldest first (the Task rows are the log)."""
    return (
        Task.objects.filter(process__caseprocess__case=case, flow_task_type="HUMAN", finished__isnull=False)
        .select_related("owner")
        .order_by("finished", "pk")
    )


def reply_deadline_of(proposal) -> tuple[date | None, bool]:
    """(the household's reply deadline for this proposal, waiting for a registered letter's delivery),
    from the one rule of cases/deadlines.py."""
    due = deadlines.reply_due(proposal)
    return due, due is None and proposal.registered_letter


@dataclass(frozen=True)
class Waiting:
    """The reply step is open but the household cannot answer yet: the CALEOL ranked it behind another
    household, which the dwelling is offered to first (R441-3 CCH: the dwelling passes down the
    ranking only when a better-ranked household refuses, stays silent or loses its allocation)."""

    rank: int | None
    holder_rank: int | None = None  # None: the CALEOL has not decided on every candidate yet
    holder_notified: bool = False
    holder_accepted: bool = False
    letter_pending: bool = False
    reply_due: date | None = None  # the better-ranked household's reply deadline
    condition_deadline: date | None = None  # its missing document's deadline, if its allocation is conditional

    @property
    def known_by(self) -> date | None:
        """The last day the better-ranked household may keep the dwelling (answer, or bring the
        missing document); by the day after, this case knows whether the dwelling passes to it."""
        if self.reply_due is None or self.holder_accepted:
            return None
        return max(d for d in (self.reply_due, self.condition_deadline) if d)

    @property
    def message(self) -> str:
        if self.holder_rank is None:
            return _(
                "Ce dossier attend la CALEOL : elle n'a pas encore statué sur tous les candidats de ce logement, "
                "le classement n'est donc pas complet. Le ménage ne peut pas encore répondre à l'offre."
            )
        parts = [
            _(
                "Ce dossier attend un ménage mieux classé : le logement est d'abord proposé au ménage classé au "
                "rang %(holder)s (ce ménage-ci est au rang %(rank)s). Il ne peut pas répondre tant que le logement "
                "ne lui revient pas."
            )
            % {"holder": self.holder_rank, "rank": self.rank}
        ]
        if self.holder_accepted:
            parts.append(
                _(
                    "Le ménage mieux classé a accepté l'offre : le logement ne reviendra à ce dossier que si le bail "
                    "n'est pas signé."
                )
            )
        elif self.known_by:
            parts.append(
                _(
                    "Le ménage mieux classé a jusqu'au %(date)s inclus pour répondre : le dossier saura alors si le "
                    "logement lui revient."
                )
                % {"date": self.known_by.strftime("%d/%m/%Y")}
            )
        elif self.letter_pending:
            parts.append(
                _(
                    "La date sera connue à la remise de la lettre recommandée au ménage mieux classé : son délai de "
                    "réponse court à partir de cette remise."
                )
            )
        elif not self.holder_notified:
            parts.append(
                _(
                    "La date sera connue quand l'offre aura été notifiée au ménage mieux classé : son délai de réponse "
                    "court à partir de cette notification."
                )
            )
        if self.condition_deadline and not self.holder_accepted:
            parts.append(
                _(
                    "Son attribution est sous condition suspensive : si la pièce manquante n'est pas fournie au plus "
                    "tard le %(date)s, le logement passe au rang suivant."
                )
                % {"date": self.condition_deadline.strftime("%d/%m/%Y")}
            )
        return " ".join(str(p) for p in parts)


def waiting_for(case) -> Waiting | None:
    """Why the case's household cannot answer its offer yet, or None when it can (or is not at that step)."""
    if case.status != choices.CaseStatus.REPLY:
        return None
    proposal = current_proposal(case, "caleol_decision", "reply")  # read with it: two queries fewer
    decision = offers.decided(proposal) if proposal else None
    if decision is None or not decision.is_allocation or not proposal.offer_id or offers.replied(proposal):
        return None
    offer = proposal.offer
    holder = offers.holder(offer)
    if holder == proposal:
        return None
    if holder is None:
        undecided = any(offers.decided(p) is None for p in offer.proposals.select_related("caleol_decision"))
        return Waiting(rank=decision.effective_rank) if undecided else None
    held = holder.caleol_decision
    conditional = (
        held.decision == choices.CaleolDecisionType.SUSPENSIVE_CONDITION
        and not held.condition_met_on
        and not held.condition_lapsed_at
    )
    due, letter_pending = reply_deadline_of(holder) if holder.notified_on else (None, False)
    return Waiting(
        rank=decision.effective_rank,
        holder_rank=held.effective_rank,
        holder_notified=bool(holder.notified_on),
        holder_accepted=offers.replied(holder) is not None,
        letter_pending=letter_pending,
        reply_due=due,
        condition_deadline=held.condition_deadline if conditional else None,
    )


def taken_ranks(proposal) -> set[int]:
    """Ranks given to the other candidates of the proposal's dwelling that are still in the running: the
    ranks the CALEOL cannot give again (cases.offers.check_rank_free)."""
    if proposal is None or not proposal.offer_id:
        return set()
    return {
        other.caleol_decision.effective_rank
        for other in offers.ranking(proposal.offer)
        if other.pk != proposal.pk and offers.in_the_running(other)
    }


def overdue_steps(*, now=None, chunk: int = 2000) -> dict[str, int]:
    """{step name: open steps past their due date} over every open case, from the one rule of
    workflows/deadlines.py (due dates are not stored: a pause or a new limit moves them). For the
    metrics (ops/metrics.py, cached between scrapes): a fixed number of queries per `chunk` steps."""
    counts: dict[str, int] = {}
    steps = (
        Task.objects.filter(
            flow_task_type="HUMAN", status__in=ACTIVE, process__caseprocess__case__closed_at__isnull=True
        )
        .select_related("process__caseprocess__case__household")
        .order_by("pk")
    )
    last = 0
    while True:
        batch = list(steps.filter(pk__gt=last)[:chunk])
        if not batch:
            return counts
        names = {task.pk: task.flow_task.name for task in batch}
        for pk, info in due_infos(batch, now=now).items():
            counts[names[pk]] = counts.get(names[pk], 0) + info.overdue
        last = batch[-1].pk
