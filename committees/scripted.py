"""Scripted committee decisions for demo data, benchmarks and tests: a written procedure opened by the
secretary, answered by every voting member, whose outcome the secretary records. Every step goes
through committees.services, as the members would do it, so the rules (quorum, majority, recusals)
and the history are the real ones. Not used by pages or the API."""

from datetime import timedelta

from django.utils import timezone

from . import services
from .models import CommitteeMember, VoteChoice


def choice_for(values: dict) -> str:
    """The vote a decision's values stand for (selectors.outcome_of_choice, the other way round)."""
    if "dalo_benefit_lost" in values:
        return VoteChoice.LOSS_CONFIRMED if values["dalo_benefit_lost"] else VoteChoice.LOSS_NOT_CONFIRMED
    return values["outcome"]


def decide_in_writing(*, committee, case, values: dict, secretary=None):
    """Open a written procedure on `case`, have every voting member vote for the decision `values`
    state, and record its outcome as the secretary. Returns the closed WrittenProcedure."""
    seats = committee.members.filter(is_active=True).select_related("user")
    if secretary is None:
        secretary = seats.get(function=CommitteeMember.Function.SECRETARY).user
    procedure = services.procedure_open(
        actor=secretary,
        committee=committee,
        case=case,
        deadline=timezone.localdate() + timedelta(days=7),
        reason="Décision scriptée (démonstration ou test).",
    )
    choice = choice_for(values)
    for seat in seats.filter(has_vote=True):
        services.procedure_vote(actor=seat.user, procedure=procedure, choice=choice)
    return services.procedure_close(actor=secretary, procedure=procedure, values=values)
