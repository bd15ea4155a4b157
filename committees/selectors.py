"""Reads: what a user may see of committees (scoped first), the agenda order, quorum and tallies."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import models
from django.db.models import F, OuterRef, Subquery, Value, When
from django.http import Http404
from viewflow.workflow.models import Task

from cases.choices import CaseStatus, Urgency
from cases.models import Case
from permissions.policy import Action, log_denial, policy
from workflows.flows import CaseFlow
from workflows.models import ACTIVE

from .models import (
    DALO_LOSS_CHOICES,
    PRIORITY_CHOICES,
    AgendaItem,
    Committee,
    CommitteeMember,
    Recusal,
    Session,
    VoteChoice,
    WrittenProcedure,
)

URGENCY_RANK = {Urgency.CRITICAL: 4, Urgency.HIGH: 3, Urgency.MEDIUM: 2, Urgency.LOW: 1}


# --- scope --------------------------------------------------------------------------------------------


def seats_of(user):
    if not user or not user.is_authenticated:
        return CommitteeMember.objects.none()
    return CommitteeMember.objects.filter(user=user, is_active=True, committee__is_active=True)


def committees_for(user):
    return Committee.objects.filter(pk__in=seats_of(user).values("committee_id"))


def seat_on(user, committee) -> CommitteeMember | None:
    return seats_of(user).filter(committee=committee).select_related("organisation").first()


def committee_for(request, pk) -> tuple[Committee, CommitteeMember]:
    committee = committees_for(request.user).filter(pk=pk).first()
    if committee is None:
        log_denial(request, "view", "committee", pk)
        raise Http404
    return committee, seat_on(request.user, committee)


def session_for(request, pk) -> tuple[Session, CommitteeMember]:
    session = (
        Session.objects.filter(committee__in=committees_for(request.user), pk=pk).select_related("committee").first()
    )
    if session is None:
        log_denial(request, "view", "committee_session", pk)
        raise Http404
    return session, seat_on(request.user, session.committee)


def item_for(request, session, pk, *, decided_too=False) -> AgendaItem:
    """An agenda item whose case the user may also see under the case policy (both scopes apply).

    `decided_too`: also an item this session decided on, for the decision letter (the committee's own
    record). A decision that closes the case (not kept, redirected, DALO benefit lost) ends the members'
    access to the case file (permissions.policy), not the bureau's duty to send the household its
    letter, which holds decision data only."""
    in_scope = models.Q(case__in=policy.queryset_for(request.user, Action.VIEW))
    if decided_too:
        in_scope |= models.Q(decision__isnull=False)
    item = (
        session.items.filter(pk=pk)
        .filter(in_scope)
        .select_related("case", "case__household", "case__household__commune")
        .first()
    )
    if item is None:
        log_denial(request, "view", "agenda_item", pk)
        raise Http404
    return item


# --- agenda -------------------------------------------------------------------------------------------


def committee_since(case_ref: str = "pk"):
    """When the case's current committee step was created (the waiting time starts there)."""
    return Subquery(
        Task.objects.filter(
            process__caseprocess__case=OuterRef(case_ref), flow_task=CaseFlow.committee, status__in=ACTIVE
        )
        .order_by("-created")
        .values("created")[:1]
    )


def with_urgency(qs):
    return qs.annotate(
        waiting_since=committee_since(),
        urgency_rank=models.Case(
            *[When(diagnostic__urgency=level, then=Value(rank)) for level, rank in URGENCY_RANK.items()],
            default=Value(0),
            output_field=models.IntegerField(),
        ),
    )


# Legal deadline first (DALO offer), then the urgency the social worker assessed, then waiting time.
URGENCY_ORDER = [
    F("dalo_offer_deadline").asc(nulls_last=True),
    F("urgency_rank").desc(),
    F("waiting_since").asc(nulls_last=True),
    "pk",
]


def awaiting_cases(committee):
    """Open cases at the committee step in the committee's territory, most urgent first."""
    qs = Case.objects.filter(
        status=CaseStatus.COMMITTEE,
        closed_at__isnull=True,
        household__commune__in=committee.communes.all(),
    )
    return with_urgency(qs).select_related("household", "diagnostic").order_by(*URGENCY_ORDER)


def eligible_cases(session):
    """Cases the secretary may still add: awaiting, on no other session not yet closed, and under no
    open written procedure."""
    return not_busy(awaiting_cases(session.committee))


def not_busy(cases):
    """Cases not already before a committee: on the agenda of a session not closed, or under an open
    written procedure. A case is examined one way at a time."""
    on_agenda = AgendaItem.objects.filter(session__status__in=[Session.Status.PLANNED, Session.Status.OPEN])
    in_writing = WrittenProcedure.objects.filter(status=WrittenProcedure.Status.OPEN)
    return cases.exclude(pk__in=on_agenda.values("case_id")).exclude(pk__in=in_writing.values("case_id"))


def agenda(session):
    """The items in examination order, with their case and decision (one query however many)."""
    return (
        session.items.select_related("case", "decision__review")
        .annotate(waiting_since=committee_since("case_id"))
        .order_by("position", "pk")
    )


# --- attendance, quorum, tally ------------------------------------------------------------------------


def voting_members(committee):
    return committee.members.filter(is_active=True, has_vote=True).select_related("user", "organisation")


def present_member_ids(session) -> set[int]:
    return set(session.attendance.filter(present=True).values_list("member_id", flat=True))


@dataclass
class Quorum:
    required: int
    present: int
    voting: int
    rule: str

    @property
    def reached(self) -> bool:
        return self.present >= self.required


def quorum(session, item: AgendaItem | None = None, present_ids: set[int] | None = None) -> Quorum:
    """Voting members present; for one item, recused members do not count toward the quorum."""
    committee = session.committee
    voting = {m.pk for m in voting_members(committee)}
    present = (present_member_ids(session) if present_ids is None else present_ids) & voting
    if item is not None:
        present -= set(item.recusals.values_list("member_id", flat=True))
    return Quorum(committee.quorum_required(len(voting)), len(present), len(voting), committee.quorum_label())


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    counted: int = 0
    recused: int = 0
    not_counted: int = 0  # votes of members absent from the session, or without a deliberative vote
    chair_choice: str | None = None

    def rows(self, kind: str):
        options = DALO_LOSS_CHOICES if kind == "dalo_loss" else PRIORITY_CHOICES
        return [(choice.label, self.counts.get(choice.value, 0)) for choice in options]

    @property
    def majority(self) -> str | None:
        """The choice with more than half of the counted votes; on a tie, the chair's casting vote."""
        if not self.counted:
            return None
        ranked = self.counts.most_common()
        best, best_count = ranked[0]
        if best_count * 2 > self.counted:
            return best
        tied = {choice for choice, count in ranked if count == best_count}
        if len(tied) > 1 and self.chair_choice in tied and best_count * 2 == self.counted:
            return self.chair_choice
        return None

    def as_json(self) -> dict:
        return {
            "counts": dict(self.counts),
            "counted": self.counted,
            "recused": self.recused,
            "not_counted": self.not_counted,
        }


def tally(item: AgendaItem) -> Tally:
    """Votes that count: voting members, not recused, and present once the session has opened."""
    session = item.session
    recused = set(item.recusals.values_list("member_id", flat=True))
    return _count(session, item.votes.select_related("member"), recused, present_member_ids(session))


def tallies(session, items, votes, present_ids: set[int]) -> dict[int, Tally]:
    """{item pk: tally} for a whole agenda, from the session's votes already read (with their member):
    one query for the recusals, whatever the number of items."""
    recused = defaultdict(set)
    for item_id, member_id in Recusal.objects.filter(item__session=session).values_list("item_id", "member_id"):
        recused[item_id].add(member_id)
    by_item = defaultdict(list)
    for vote in votes:
        by_item[vote.item_id].append(vote)
    return {item.pk: _count(session, by_item[item.pk], recused[item.pk], present_ids) for item in items}


def _count(session, votes, recused: set[int], present: set[int]) -> Tally:
    # The one counting rule, for tally() (decisions, item page), tallies() (agenda) and
    # procedure_tally() (written procedures: no session, so no attendance).
    attendance_matters = session is not None and session.status != Session.Status.PLANNED
    result = Tally(recused=len(recused))
    for vote in votes:
        member = vote.member
        if member.pk in recused:
            continue
        if not member.has_vote or not member.is_active or (attendance_matters and member.pk not in present):
            result.not_counted += 1
            continue
        result.counts[vote.choice] += 1
        result.counted += 1
        if member.function == CommitteeMember.Function.CHAIR:
            result.chair_choice = vote.choice
    return result


# --- written procedures -------------------------------------------------------------------------------


def procedures_for(user):
    return WrittenProcedure.objects.filter(committee__in=committees_for(user)).select_related("committee", "case")


def procedure_for(request, pk) -> tuple[WrittenProcedure, CommitteeMember]:
    """A written procedure of a committee the user sits on, whose case they may see (both scopes)."""
    visible = policy.queryset_for(request.user, Action.VIEW)
    procedure = procedures_for(request.user).filter(pk=pk, case__in=visible).first()
    if procedure is None:
        log_denial(request, "view", "written_procedure", pk)
        raise Http404
    return procedure, seat_on(request.user, procedure.committee)


def recused_on(procedure) -> set[int]:
    """The members recused on a written procedure."""
    return set(procedure.recusals.values_list("member_id", flat=True))


def procedure_tally(procedure, recused: set[int] | None = None) -> Tally:
    """Votes cast in writing by voting members not recused. No casting vote: a tie is no majority
    (the chair's casting vote needs a deliberation, which a written procedure does not hold).
    `recused`: recused_on(procedure), when the caller has read it already."""
    recused = recused_on(procedure) if recused is None else recused
    result = _count(None, procedure.votes.select_related("member"), recused, set())
    result.chair_choice = None
    return result


@dataclass
class WrittenQuorum:
    required: int
    responded: int
    eligible: int  # voting members not recused: who may still answer
    rule: str

    @property
    def reached(self) -> bool:
        return self.responded >= self.required

    @property
    def everyone_answered(self) -> bool:
        return self.responded >= self.eligible


def procedure_quorum(procedure, tally: Tally | None = None, recused: set[int] | None = None) -> WrittenQuorum:
    """The quorum of a written procedure: voting members who responded (recused members do not count)."""
    committee = procedure.committee
    voting = {m.pk for m in voting_members(committee)}
    recused = recused_on(procedure) if recused is None else recused
    tally = tally or procedure_tally(procedure, recused)
    return WrittenQuorum(
        required=committee.quorum_required(len(voting)),
        responded=tally.counted,
        eligible=len(voting - recused),
        rule=committee.quorum_label(),
    )


def outcome_of_choice(choice: str) -> dict:
    """The CommitteeReview values a vote choice stands for."""
    if choice == VoteChoice.LOSS_CONFIRMED:
        return {"dalo_benefit_lost": True}
    if choice == VoteChoice.LOSS_NOT_CONFIRMED:
        return {"dalo_benefit_lost": False}
    return {"outcome": choice}
