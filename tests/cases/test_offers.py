"""One dwelling, several candidates: ranks, passing down the ranking, conditions, reply deadlines."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from cases import choices, offers
from cases.models import Case, DwellingOffer, HouseholdReply
from notifications.models import Notification
from tests.workflows import steps
from workflows import services

pytestmark = pytest.mark.django_db

CALEOL_DAY = date(2026, 11, 10)
OVERRIDE = "Vu avec le ménage."


def labelled(world, n=3, **flag_kwargs):
    return [steps.label(world, steps.diagnose(world, world.flag(**flag_kwargs))) for _ in range(n)]


def put_forward(world, cases, dwelling=None, **extra):
    dwelling = dwelling or world.dwelling
    for case in cases:
        values = {"dwelling": dwelling, "match_override_reason": OVERRIDE} | extra
        if case.is_dalo:
            values["dalo_notice_given_at"] = datetime(2026, 11, 1, 10, tzinfo=UTC)
        services.proposal_make(actor=world.landlord_agent, case=case, values=values)
    return DwellingOffer.objects.get(dwelling=dwelling, status="open")


def rank(world, case, n, **extra):
    values = {"decision": choices.CaleolDecisionType.ALLOCATED_RANKED, "rank": n, "decided_on": CALEOL_DAY} | extra
    return services.caleol_record(actor=world.landlord_agent, case=case, values=values)


def notify(world, case, day=date(2026, 11, 12), **extra):
    return services.proposal_notify(actor=world.landlord_agent, case=case, notified_on=day, **extra)


def reply(world, case, answer, day=date(2026, 11, 20), **extra):
    values = {"answer": answer, "replied_on": day} | extra
    return services.reply_record(actor=world.landlord_agent, case=case, values=values)


def fresh(case):
    return Case.objects.get(pk=case.pk)


def test_rank_one_refuses_rank_two_accepts_rank_three_lapses(world):
    first, second, third = labelled(world)
    offer = put_forward(world, [first, second, third])
    assert offer.proposals.count() == 3
    for n, case in enumerate([first, second, third], start=1):
        rank(world, case, n)
    assert offers.holder(offer).case == first

    # Rank 2 waits: it cannot be notified nor answer while rank 1 holds the dwelling.
    with pytest.raises(ValidationError) as error:
        notify(world, second)
    assert "notified_on" in error.value.message_dict
    with pytest.raises(ValidationError):
        reply(world, second, choices.ReplyAnswer.ACCEPTED)

    notify(world, first)
    assert not Notification.objects.filter(template="offer_passed_down").exists()
    first = reply(world, first, choices.ReplyAnswer.REFUSED, refusal_motive=choices.RefusalMotive.RENT)
    assert (first.status, first.refusal_count) == (choices.CaseStatus.PROPOSAL, 1)
    assert offers.holder(offer).case == second
    # The landlord must now notify rank 2, and rank 2's social workers learn the dwelling is theirs.
    passed = Notification.objects.filter(template="offer_passed_down", channel="in_app")
    assert sorted(passed.values_list("recipient__username", flat=True)) == ["bailleur", "encadrant", "ts"]
    assert set(passed.values_list("case", flat=True)) == {second.pk}
    assert passed.first().context["rank"] == 2

    notify(world, second, date(2026, 11, 21))
    second = reply(world, second, choices.ReplyAnswer.ACCEPTED, day=date(2026, 11, 25))
    assert second.status == choices.CaseStatus.LEASE
    second = services.lease_record(actor=world.landlord_agent, case=second, signed_on=date(2026, 12, 1))
    assert second.closure_reason == choices.ClosureReason.REHOUSED_SOCIAL

    offer.refresh_from_db()
    assert offer.status == choices.OfferStatus.LET
    third = fresh(third)
    # Rank 3 goes back to the proposal step without a refusal counted against it.
    assert (third.status, third.refusal_count) == (choices.CaseStatus.PROPOSAL, 0)
    assert HouseholdReply.objects.get(proposal__case=third).answer == choices.ReplyAnswer.LAPSED
    # Let to rank 2: rank 3's lapse passes the dwelling to nobody new.
    assert not Notification.objects.filter(template="offer_passed_down", case=third).exists()


def test_caleol_needs_three_candidates_or_a_recorded_exception(world):
    first, second = labelled(world, 2)
    offer = put_forward(world, [first, second])
    with pytest.raises(ValidationError) as error:
        rank(world, first, 1)
    assert "fewer_candidates_reason" in error.value.message_dict
    assert "(2 à ce jour)" in error.value.message_dict["fewer_candidates_reason"][0]
    with pytest.raises(ValidationError) as error:
        rank(world, first, 1, fewer_candidates_reason=choices.FewerCandidatesReason.TOO_FEW)
    assert "fewer_candidates_detail" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        rank(world, first, 1, fewer_candidates_reason=choices.FewerCandidatesReason.DALO_PREFET)
    assert "DALO" in error.value.message_dict["fewer_candidates_reason"][0]
    assert fresh(first).status == choices.CaseStatus.CALEOL
    rank(world, first, 1, fewer_candidates_reason="too_few", fewer_candidates_detail="Deux demandes seulement.")
    offer.refresh_from_db()
    assert offer.fewer_candidates_reason == "too_few"
    assert offer.history.first().history_user == world.landlord_agent


def test_prefet_designated_dalo_household_may_go_alone(world):
    (case,) = labelled(world, 1, is_dalo=True)
    put_forward(world, [case], fewer_candidates_reason=choices.FewerCandidatesReason.DALO_PREFET)
    case = services.caleol_record(
        actor=world.landlord_agent, case=case, values={"decision": "allocated", "decided_on": CALEOL_DAY}
    )
    assert case.status == choices.CaseStatus.REPLY
    assert case.proposals.get().caleol_decision.rank == 1


def test_two_candidates_cannot_share_a_rank(world):
    first, second, third = labelled(world)
    put_forward(world, [first, second, third])
    services.caleol_record(
        actor=world.landlord_agent, case=first, values={"decision": "allocated", "decided_on": CALEOL_DAY}
    )
    with pytest.raises(ValidationError) as error:
        rank(world, second, 1)
    assert "rank" in error.value.message_dict
    rank(world, second, 2)
    with pytest.raises(ValidationError) as error:
        services.caleol_record(
            actor=world.landlord_agent,
            case=third,
            values={"decision": "not_allocated", "rank": 3, "decided_on": CALEOL_DAY, "non_allocation_reason": "other"},
        )
    assert set(error.value.message_dict) == {"rank", "reasons_detail"}


def test_holder_waits_for_every_caleol_decision(world):
    first, second, third = labelled(world)
    offer = put_forward(world, [first, second, third])
    rank(world, second, 2)
    rank(world, first, 1)
    assert offers.holder(offer) is None  # the CALEOL has not decided on the third candidate yet
    services.caleol_record(
        actor=world.landlord_agent,
        case=third,
        values={"decision": "not_allocated", "non_allocation_reason": "better_ranked", "decided_on": CALEOL_DAY},
    )
    assert fresh(third).status == choices.CaseStatus.PROPOSAL
    assert offers.holder(offer).case == first


def test_other_landlord_is_refused_and_a_refused_dwelling_is_not_offered_again(world):
    (case,) = labelled(world, 1)
    with pytest.raises(PermissionDenied):
        services.proposal_make(
            actor=world.other_landlord_agent,
            case=case,
            values={"dwelling": world.dwelling, "match_override_reason": "x"},
        )
    assert not DwellingOffer.objects.exists()
    case = one_allocated_case(world, case)
    notify(world, case)
    case = reply(world, case, "refused", refusal_motive="size")
    with pytest.raises(ValidationError) as error:
        put_forward(world, [case])
    assert "déjà proposé" in error.value.message_dict["dwelling"][0]
    put_forward(world, [case], dwelling=world.dwelling2)


def one_allocated_case(world, case):
    put_forward(world, [case], fewer_candidates_reason="too_few", fewer_candidates_detail="Un seul candidat.")
    return rank(world, case, 1)


def test_suspensive_condition_lapses_by_itself_and_dwelling_passes_down(world):
    first, second, third = labelled(world)
    offer = put_forward(world, [first, second, third])
    services.caleol_record(
        actor=world.landlord_agent,
        case=first,
        values={
            "decision": "suspensive_condition",
            "missing_document": "Avis d'imposition 2025",
            "condition_deadline": date(2026, 11, 20),
            "decided_on": CALEOL_DAY,
        },
    )
    rank(world, second, 2)
    rank(world, third, 3)
    notify(world, first)
    with pytest.raises(ValidationError) as error:
        reply(world, first, choices.ReplyAnswer.ACCEPTED)
    assert "Avis d'imposition 2025" in error.value.message_dict["answer"][0]

    assert services.offers_sweep(today=date(2026, 11, 20)) == {"conditions_lapsed": 0}
    counts = services.offers_sweep(today=date(2026, 11, 21))
    assert counts["conditions_lapsed"] == 1
    first = fresh(first)
    assert (first.status, first.refusal_count) == (choices.CaseStatus.PROPOSAL, 0)
    decision = first.proposals.get().caleol_decision
    assert decision.condition_lapsed_at is not None
    assert offers.holder(offer).case == second
    # Run again: nothing more to do.
    assert services.offers_sweep(today=date(2026, 12, 2))["conditions_lapsed"] == 0


def test_condition_met_in_time_then_accept_and_sign(world):
    (case,) = labelled(world, 1)
    put_forward(world, [case], fewer_candidates_reason="too_few", fewer_candidates_detail="Un seul candidat.")
    services.caleol_record(
        actor=world.landlord_agent,
        case=case,
        values={
            "decision": "suspensive_condition",
            "missing_document": "Titre de séjour",
            "condition_deadline": date(2026, 11, 30),
            "decided_on": CALEOL_DAY,
        },
    )
    with pytest.raises(ValidationError):
        services.condition_fulfil(actor=world.landlord_agent, case=case, received_on=date(2026, 12, 2))
    with time_machine.travel(date(2026, 11, 25)):
        services.condition_fulfil(actor=world.landlord_agent, case=case, received_on=date(2026, 11, 20))
    with pytest.raises(services.StepConflict):
        services.condition_fulfil(actor=world.landlord_agent, case=case, received_on=date(2026, 11, 20))
    notify(world, case)
    case = reply(world, case, choices.ReplyAnswer.ACCEPTED)
    case = services.lease_record(actor=world.landlord_agent, case=case, signed_on=date(2026, 12, 5))
    assert case.closure_reason == choices.ClosureReason.REHOUSED_SOCIAL
    assert services.offers_sweep(today=date(2027, 1, 1)) == {"conditions_lapsed": 0}


def one_allocated(world, **flag_kwargs):
    (case,) = labelled(world, 1, **flag_kwargs)
    return one_allocated_case(world, case)


def test_registered_letter_deadline_runs_from_delivery(world):
    case = one_allocated(world)
    proposal = notify(world, case, registered_letter=True)
    assert proposal.reply_deadline is None  # not delivered yet: the period has not started
    with pytest.raises(ValidationError) as error:
        notify(world, case, registered_letter=True, delivered_on=date(2026, 11, 16), reply_deadline=date(2026, 11, 22))
    assert "au plus tôt le 26/11/2026" in error.value.message_dict["reply_deadline"][0]
    with pytest.raises(ValidationError) as error:
        notify(world, case, registered_letter=True, delivered_on=date(2026, 11, 11))
    assert "delivered_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        notify(world, case, day=date(2026, 11, 9))
    assert "notified_on" in error.value.message_dict
    proposal = notify(world, case, registered_letter=True, delivered_on=date(2026, 11, 16))
    assert proposal.reply_deadline == date(2026, 11, 26)
    with pytest.raises(ValidationError) as error:
        reply(world, case, choices.ReplyAnswer.NO_REPLY, day=date(2026, 11, 26))
    assert "26/11/2026" in error.value.message_dict["answer"][0]


def scan(day):
    """What Celery beat runs on that day at 09:00: the deadline scan, then viewflow's timers, whose
    deadline branch records silence worth refusal."""
    import time_machine

    from workflows.scan import fire_timers, scan_deadlines

    with time_machine.travel(timezone.make_aware(datetime.combine(day, time(9))), tick=False):
        scan_deadlines()
        fire_timers()


def test_silence_counts_as_refusal_only_for_the_holder(world):
    first, second, third = labelled(world)
    second = fresh(second)
    second.is_dalo, second.comed_decision_date = True, date(2026, 9, 1)
    second.save()
    put_forward(world, [first, second, third])
    for n, case in enumerate([first, second, third], start=1):
        rank(world, case, n)
    notify(world, first)  # deadline Sunday 22/11, carried to Monday 23/11 by the scan
    scan(date(2026, 11, 23))
    assert fresh(first).refusal_count == 0
    scan(date(2026, 11, 24))
    first = fresh(first)
    assert (first.status, first.refusal_count) == (choices.CaseStatus.PROPOSAL, 1)
    row = HouseholdReply.objects.get(proposal__case=first)
    assert (row.answer, row.refusal_motive, row.legitimate) == ("no_reply", "no_reply", False)
    assert row.history.first().history_user.username == "systeme"
    # Rank 2 now holds the dwelling but was never notified: its silence cannot run yet.
    scan(date(2026, 12, 31))
    assert fresh(second).status == choices.CaseStatus.REPLY
    notify(world, second, date(2026, 11, 25), registered_letter=True)
    scan(date(2027, 1, 15))  # letter not delivered: the clock has not started
    assert fresh(second).status == choices.CaseStatus.REPLY
    notify(world, second, date(2026, 11, 25), registered_letter=True, delivered_on=date(2026, 11, 27))
    scan(date(2027, 1, 16))
    second = fresh(second)
    # A DALO household told beforehand, silent on an adapted offer: the committee rules on the loss.
    assert (second.status, second.dalo_loss_review_pending) == (choices.CaseStatus.COMMITTEE, True)


def test_reply_must_follow_notification(world):
    case = one_allocated(world)
    with pytest.raises(ValidationError) as error:
        reply(world, case, choices.ReplyAnswer.ACCEPTED)
    assert "notification" in error.value.message_dict["answer"][0]
    notify(world, case)
    with pytest.raises(ValidationError) as error:
        reply(world, case, choices.ReplyAnswer.ACCEPTED, day=date(2026, 11, 11))
    assert "replied_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        reply(world, case, choices.ReplyAnswer.REFUSED)
    assert "refusal_motive" in error.value.message_dict
    assert fresh(case).status == choices.CaseStatus.REPLY


def test_refusal_legitimacy_is_prefilled_and_can_be_assessed(world):
    case = one_allocated(world)
    notify(world, case)
    reply(world, case, "refused", refusal_motive="location", legitimate=True, comment="Trop loin de l'école.")
    row = HouseholdReply.objects.get(proposal__case=case)
    assert row.legitimate is True


def test_sweep_command_runs(world, capsys):
    (case,) = labelled(world, 1)
    put_forward(world, [case], fewer_candidates_reason="too_few", fewer_candidates_detail="Un seul candidat.")
    rank(world, case, 1, decision="suspensive_condition", missing_document="RIB", condition_deadline=date(2026, 11, 20))
    with time_machine.travel(date(2026, 12, 1)):
        call_command("offers_sweep")
    assert "caduques : 1" in capsys.readouterr().out
    assert fresh(case).status == choices.CaseStatus.PROPOSAL


def passed_down_to():
    rows = Notification.objects.filter(template="offer_passed_down", channel="in_app")
    return sorted(set(rows.values_list("case", flat=True)))


def test_closing_the_holders_case_passes_the_dwelling_down_and_tells_so(world):
    first, second, third = labelled(world)
    offer = put_forward(world, [first, second, third])
    for n, case in enumerate([first, second, third], start=1):
        rank(world, case, n)
    services.case_close(actor=world.social_worker, case=third, reason="withdrawn", comment="Désistement.")
    assert passed_down_to() == []  # rank 1 still holds the dwelling: nothing passed down
    services.case_close(actor=world.social_worker, case=first, reason="withdrawn", comment="Désistement.")
    assert offers.holder(offer).case == second
    assert passed_down_to() == [second.pk]


def test_a_lapse_behind_the_holder_passes_nothing_down(world):
    first, second, third = labelled(world)
    put_forward(world, [first, second, third])
    rank(world, first, 1)
    suspensive = {"missing_document": "Avis d'imposition 2025", "condition_deadline": date(2026, 11, 20)}
    rank(world, second, 2, decision="suspensive_condition", **suspensive)
    rank(world, third, 3)
    assert services.offers_sweep(today=date(2026, 11, 21))["conditions_lapsed"] == 1
    assert passed_down_to() == []  # rank 1 holds the dwelling, whatever happens to rank 2
