"""Legal rules of the priority track (issue 15, points 7 to 12): the DALO "informed" date, loss only
for an adapted offer, one reply deadline counted as the law counts, inadmissibility of one dwelling,
the préfet's 3 or 6 months, and refusal motives."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases import choices, deadlines, offers
from cases.models import CaleolDecision, Case, HouseholdReply, Proposal
from cases.territory import DepartementSettings
from notifications import services as notification_services
from tests.workflows import steps
from web.tasks.forms import CaleolForm
from workflows import services
from workflows.queries import case_due_info

pytestmark = pytest.mark.django_db

CALEOL_DAY = date(2026, 11, 10)


def at(day: date):
    return time_machine.travel(timezone.make_aware(datetime.combine(day, time(10))), tick=False)


def fresh(case):
    return Case.objects.get(pk=case.pk)


def allocated(world, *, is_dalo=False, notice=None, **propose_extra):
    """A labelled case whose one-candidate round is allocated by the CALEOL, offer not notified yet."""
    case = steps.label(world, steps.diagnose(world, world.flag(is_dalo=is_dalo)))
    values = {
        "dwelling": world.dwelling,
        "match_override_reason": "Choix confirmé avec le ménage lors de la visite.",
        "fewer_candidates_reason": choices.FewerCandidatesReason.TOO_FEW,
        "fewer_candidates_detail": "Seul ménage prioritaire pour ce T3 ce mois-ci.",
    } | propose_extra
    if is_dalo:
        values["dalo_notice_given_at"] = notice or datetime(2026, 11, 1, 10, tzinfo=UTC)
    case = services.proposal_make(actor=world.landlord_agent, case=case, values=values)
    return steps.allocate(world, case)


def notify(world, case, day, **extra):
    return services.proposal_notify(actor=world.landlord_agent, case=case, notified_on=day, **extra)


def silence(world, case, day):
    return services.reply_record(
        actor=world.landlord_agent, case=case, values={"answer": choices.ReplyAnswer.NO_REPLY, "replied_on": day}
    )


# --- 9. One reply deadline -------------------------------------------------------------------------------


def test_reply_deadline_counts_as_the_code_de_procedure_civile():
    # The day of notification does not count; a last day off moves to the next working day.
    assert deadlines.reply_deadline(date(2026, 12, 16), "83") == date(2026, 12, 28)  # Saturday 26/12
    assert deadlines.reply_deadline(date(2026, 12, 15), "83") == date(2026, 12, 28)  # Christmas, then weekend
    assert deadlines.reply_deadline(date(2026, 11, 2), "83") == date(2026, 11, 12)  # Thursday: no carry
    assert deadlines.reply_deadline(date(2026, 11, 1), "83") == date(2026, 11, 12)  # 11/11 falls on the way: still 10
    # Alsace-Moselle keeps 26 December and Good Friday as public holidays.
    assert deadlines.reply_deadline(date(2025, 12, 16), "83") == date(2025, 12, 26)
    assert deadlines.reply_deadline(date(2025, 12, 16), "57") == date(2025, 12, 29)
    assert deadlines.reply_deadline(date(2025, 12, 16), "67") == date(2025, 12, 29)
    # Good Friday 26/03/2027 in Moselle, then Easter Monday everywhere.
    assert deadlines.reply_deadline(date(2027, 3, 16), "57") == date(2027, 3, 30)
    assert deadlines.reply_deadline(date(2027, 3, 16), "83") == date(2027, 3, 26)


def test_territory_may_give_more_days_never_fewer():
    assert deadlines.reply_days("83") == 10
    DepartementSettings.objects.create(code="83", offer_reply_days=15)
    assert deadlines.reply_days("83") == 15
    assert deadlines.reply_deadline(date(2026, 12, 16), "83") == date(2026, 12, 31)
    with pytest.raises(ValidationError) as error:
        DepartementSettings(code="44", offer_reply_days=9).full_clean()
    assert "R441-10" in error.value.message_dict["offer_reply_days"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        DepartementSettings.objects.create(code="13", offer_reply_days=9)


def test_offer_pages_timers_and_manual_silence_use_the_one_deadline(world):
    case = allocated(world)
    proposal = notify(world, case, date(2026, 12, 16))
    assert proposal.reply_deadline == date(2026, 12, 28)  # stored on the offer: what pages, API, letters show
    assert case_due_info(fresh(case)).due_date == date(2026, 12, 28)  # what the timers use
    for day in (date(2026, 12, 26), date(2026, 12, 28)):
        with at(day), pytest.raises(ValidationError) as error:
            silence(world, case, day)
        assert "28/12/2026" in error.value.message_dict["answer"][0]
    with at(date(2026, 12, 27)), pytest.raises(ValidationError):
        silence(world, case, date(2026, 12, 29))  # a date typed ahead of today changes nothing
    with at(date(2026, 12, 29)):
        case = silence(world, case, date(2026, 12, 29))
    assert (case.status, case.refusal_count) == (choices.CaseStatus.PROPOSAL, 1)


def test_landlord_deadline_below_the_legal_one_is_refused_with_the_article(world):
    case = allocated(world)
    with pytest.raises(ValidationError) as error:
        notify(world, case, date(2026, 12, 16), reply_deadline=date(2026, 12, 26))
    message = error.value.message_dict["reply_deadline"][0]
    assert "28/12/2026" in message and "R441-10" in message
    proposal = notify(world, case, date(2026, 12, 16), reply_deadline=date(2027, 1, 9))  # a Saturday
    assert proposal.reply_deadline == date(2027, 1, 11)


def test_registered_letter_runs_from_delivery_on_the_offer_and_the_timers(world):
    case = allocated(world)
    with at(date(2026, 12, 16)):
        proposal = notify(world, case, date(2026, 12, 16), registered_letter=True)
    assert proposal.reply_deadline is None and case_due_info(fresh(case)).waiting_delivery
    with at(date(2026, 12, 21)):
        proposal = notification_services.offer_delivery_record(
            actor=world.landlord_agent, proposal=proposal, registered_letter=True, delivered_on=date(2026, 12, 19)
        )
    # Delivered (or first presented) on Saturday 19/12: 29/12/2026, a Tuesday.
    assert Proposal.objects.get(pk=proposal.pk).reply_deadline == date(2026, 12, 29)
    assert case_due_info(fresh(case)).due_date == date(2026, 12, 29)


# --- 7. DALO "informed" date -----------------------------------------------------------------------------


def test_dalo_offer_cannot_be_notified_before_the_household_is_informed(world):
    case = allocated(world, is_dalo=True, notice=datetime(2026, 11, 20, 10, tzinfo=UTC))
    with pytest.raises(ValidationError) as error:
        notify(world, case, date(2026, 11, 12))
    assert "20/11/2026" in error.value.message_dict["notified_on"][0]
    assert Proposal.objects.get(case=case).notified_on is None
    notify(world, case, date(2026, 11, 20))  # informed the same day: fine
    with pytest.raises(ValidationError) as error:
        late = steps.label(world, steps.diagnose(world, world.flag(is_dalo=True)))
        services.proposal_make(
            actor=world.landlord_agent,
            case=late,
            values={
                "dwelling": world.dwelling2,
                "notified_on": date(2026, 11, 2),
                "dalo_notice_given_at": datetime(2026, 11, 3, 9, tzinfo=UTC),
                "match_override_reason": "Vu avec le ménage.",
                "fewer_candidates_reason": choices.FewerCandidatesReason.TOO_FEW,
                "fewer_candidates_detail": "Un seul candidat.",
            },
        )
    assert "dalo_notice_given_at" in error.value.message_dict


def test_refusal_never_opens_a_loss_review_when_informed_after_the_offer(world):
    case = allocated(world, is_dalo=True)
    notify(world, case, date(2026, 11, 12))
    # A record from before this rule: the household was told after the offer went out.
    Proposal.objects.filter(case=case).update(dalo_notice_given_at=datetime(2026, 11, 14, 10, tzinfo=UTC))
    case = steps.refuse(world, case, motive=choices.RefusalMotive.LOCATION)
    assert (case.status, case.dalo_loss_review_pending) == (choices.CaseStatus.PROPOSAL, False)


# --- 8. Loss only for an adapted offer -------------------------------------------------------------------


def test_loss_needs_the_committees_statement_that_the_offer_was_adapted(world, client):
    case = allocated(world, is_dalo=True)
    notify(world, case, date(2026, 11, 12))
    case = steps.refuse(world, case, motive=choices.RefusalMotive.LOCATION)
    assert case.dalo_loss_review_pending
    warnings = Proposal.objects.get(case=case).match_warnings
    assert warnings  # the landlord kept the offer despite the match alerts
    facts = offers.loss_review_facts(case)
    assert facts["match_warnings"] == [w["message"] for w in warnings]
    from committees.synthesis import synthesis

    assert synthesis(case, world.commission)["loss_review"] == facts  # the committee's synthesis sheet
    client.force_login(world.commission)
    page = client.get(reverse("workflows:step", args=[case.pk, "committee"])).content.decode()
    assert "malgré des alertes d'adéquation" in page and warnings[0]["message"] in page
    for statement in ({}, {"offer_adapted": False}):
        with pytest.raises(ValidationError) as error, transaction.atomic():
            steps.decide(world, case, {"dalo_benefit_lost": True, "reason": "Refus sans motif.", **statement})
        assert "adaptée" in error.value.message_dict["offer_adapted"][0]
    assert fresh(case).is_open
    case = steps.decide(
        world, case, {"dalo_benefit_lost": True, "offer_adapted": True, "reason": "Offre adaptée refusée sans motif."}
    )
    assert case.closure_reason == choices.ClosureReason.DALO_BENEFIT_LOST
    assert case.committee_reviews.last().offer_adapted is True


# --- 10. Inadmissibility of one dwelling -----------------------------------------------------------------


def test_inadmissibility_for_one_dwelling_ends_the_proposal_not_the_case(world):
    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    case = services.caleol_record(
        actor=world.landlord_agent,
        case=case,
        values={"decision": "inadmissible", "inadmissibility_reason": "income_over_ceiling", "decided_on": CALEOL_DAY},
    )
    assert case.is_open and case.status == choices.CaseStatus.PROPOSAL
    decision = CaleolDecision.objects.get(proposal__case=case)
    assert not decision.closes_case
    case = steps.propose(world, case, world.dwelling2)  # the case waits for, and gets, another offer
    assert case.status == choices.CaseStatus.CALEOL
    case = services.caleol_record(
        actor=world.landlord_agent,
        case=case,
        values={"decision": "inadmissible", "inadmissibility_reason": "no_valid_application", "decided_on": CALEOL_DAY},
    )
    assert case.closure_reason == choices.ClosureReason.INADMISSIBLE


def test_caleol_form_and_api_say_which_inadmissibility(world):
    from api.serializers import DecisionOut

    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    html = str(CaleolForm(user=world.landlord_agent, case=case)["inadmissibility_reason"])
    assert "<optgroup" in html and "Propre à ce logement" in html and "le dossier prioritaire est clos" in html
    decision = CaleolDecision(decision="inadmissible", inadmissibility_reason="income_over_ceiling")
    assert DecisionOut(decision).data["inadmissibility_scope"] == "dwelling"


# --- 11. The préfet's deadline -----------------------------------------------------------------------------


def test_prefet_deadline_is_three_or_six_months_by_departement():
    comed = date(2026, 9, 1)
    assert deadlines.dalo_offer_deadline(comed, "75") == date(2027, 3, 1)  # Île-de-France
    assert deadlines.dalo_offer_deadline(comed, "974") == date(2027, 3, 1)  # La Réunion
    assert deadlines.dalo_offer_deadline(comed, "25") == date(2026, 12, 1)  # Doubs (Montbéliard)
    DepartementSettings.objects.create(code="25", dalo_offer_months=6)
    assert deadlines.dalo_offer_deadline(comed, "25") == date(2027, 3, 1)
    with pytest.raises(ValidationError) as error:
        DepartementSettings(code="44", dalo_offer_months=4).full_clean()
    assert "3 ou 6 mois" in error.value.message_dict["dalo_offer_months"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        DepartementSettings.objects.create(code="13", dalo_offer_months=5)


def test_prefet_deadline_is_recomputed_with_history_when_the_comed_date_changes(world):
    case = world.flag(is_dalo=True)
    assert case.dalo_offer_deadline == date(2027, 3, 1)  # Var: agglomeration of Toulon, 6 months
    case = services.case_dalo_update(
        actor=world.social_worker, case=case, is_dalo=True, comed_decision_date=date(2026, 10, 15)
    )
    assert case.dalo_offer_deadline == date(2027, 4, 15)
    latest = case.history.first()
    assert (latest.comed_decision_date, latest.dalo_offer_deadline) == (date(2026, 10, 15), date(2027, 4, 15))
    assert latest.history_user == world.social_worker
    assert case.history.filter(dalo_offer_deadline=date(2027, 3, 1)).exists()
    with pytest.raises(ValidationError):
        services.case_dalo_update(actor=world.social_worker, case=case, is_dalo=True, comed_decision_date=None)


# --- 12. Refusal motives and the loss letter ---------------------------------------------------------------


def test_distance_from_work_school_or_care_is_weighed_by_the_committee(world):
    case = allocated(world, is_dalo=True)
    notify(world, case, date(2026, 11, 12))
    case = services.reply_record(
        actor=world.landlord_agent,
        case=case,
        values={
            "answer": choices.ReplyAnswer.REFUSED,
            "refusal_motive": choices.RefusalMotive.DISTANCE,
            "legitimate": True,  # not presumed either way for a DALO household
            "replied_on": date(2026, 11, 15),
        },
    )
    reply = HouseholdReply.objects.get(proposal__case=case)
    assert reply.legitimate is None
    assert (case.status, case.dalo_loss_review_pending) == (choices.CaseStatus.COMMITTEE, True)
    assert offers.loss_review_facts(case)["weighed_by_committee"]
    assert choices.REFUSAL_LEGITIMATE_FOR_DALO[choices.RefusalMotive.DISTANCE] is None


def test_household_page_changes_the_comed_date_and_the_deadline_follows(world, client):
    from tests.cases.test_views import edit_data

    case = world.flag(is_dalo=True)
    url = reverse("cases:household_edit", args=[case.pk])
    client.force_login(world.social_worker)
    assert 'name="dalo-comed_decision_date"' in client.get(url).content.decode()
    response = client.post(url, edit_data(case, **{"dalo-is_dalo": "on", "dalo-comed_decision_date": ""}))
    assert response.status_code == 200 and "COMED est obligatoire" in response.content.decode()
    assert fresh(case).comed_decision_date == date(2026, 9, 1)
    data = edit_data(case, **{"dalo-is_dalo": "on", "dalo-comed_decision_date": "2026-10-15"})
    assert client.post(url, data).status_code == 302
    case = fresh(case)
    assert (case.comed_decision_date, case.dalo_offer_deadline) == (date(2026, 10, 15), date(2027, 4, 15))
