"""No single-member decision (issue 15, point 6): the committee step is completed only by a session
decision or a closed written procedure; the secretary may record a show of hands; the decision forms
keep only the fields of the chosen outcome."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases import choices
from cases.models import CommitteeReview
from committees import selectors, services
from committees.forms import DecisionForm
from committees.models import SessionDecision, Vote, VoteChoice, WrittenProcedure
from notifications.models import Notification
from tests.workflows import steps
from workflows import services as workflow

from .conftest import LABELLED

pytestmark = pytest.mark.django_db

PARIS = timezone.get_default_timezone()


def labelled(cw):
    return {**LABELLED, "designated_landlord": cw.world.landlord, "target_reservataire": cw.world.reservataire}


def at(day: date):
    """Travel to 10:00 (Paris) on `day`."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 10, 0, tzinfo=PARIS), tick=False)


def login(client, user):
    client.force_login(type(user).objects.get(pk=user.pk))
    return client


def still_waiting(case):
    case.refresh_from_db()
    return case.status == choices.CaseStatus.COMMITTEE and not CommitteeReview.objects.filter(case=case).exists()


# --- one member alone -----------------------------------------------------------------------------------


def test_one_member_cannot_decide_through_the_service(cw):
    case = cw.case_at_committee()
    with pytest.raises(PermissionDenied, match="en séance ou par procédure écrite"):
        workflow.committee_decide(actor=cw.world.commission, case=case, values=labelled(cw))
    assert still_waiting(case)


def test_a_source_of_another_case_or_not_closed_does_not_count(cw):
    case, other = cw.case_at_committee(), cw.case_at_committee()
    procedure = services.procedure_open(
        actor=cw.secretary_user, committee=cw.committee, case=other, deadline=timezone.localdate() + timedelta(7)
    )
    # Open (not closed by the secretary), and about another case: refused after the lock either way.
    for target in (other, case):
        with pytest.raises(PermissionDenied):
            workflow.committee_decide(actor=cw.secretary_user, case=target, values=labelled(cw), source=procedure)
    assert still_waiting(case) and still_waiting(other)


def test_one_member_cannot_decide_from_the_step_page(cw, client):
    case = cw.case_at_committee()
    url = reverse("workflows:step", args=[case.pk, "committee"])
    login(client, cw.world.commission)
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Fiche de synthèse" in html and "Ménage hébergé, besoin d&#x27;un T3." in html  # the synthesis sheet
    assert 'name="outcome"' not in html and 'name="designated_landlord"' not in html  # no decision form
    assert "procédure écrite" in html
    data = {
        "outcome": "labelled",
        "orientation": "ordinary",
        "designated_landlord": cw.world.landlord.pk,
        "support_measure": "asll",
    }
    response = client.post(url, data)
    assert escape("la décision ne s'enregistre pas depuis cette page") in response.content.decode()
    assert still_waiting(case)


def test_step_page_links_to_where_the_case_is_examined(cw, client):
    case = cw.case_at_committee()
    url = reverse("workflows:step", args=[case.pk, "committee"])
    login(client, cw.secretary_user)
    html = client.get(url).content.decode()
    assert reverse("committees:procedure_open", args=[cw.committee.pk]) in html  # the secretary may open one
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    login(client, cw.world.commission)
    html = client.get(url).content.decode()
    assert reverse("committees:item", args=[cw.session.pk, item.pk]) in html


# --- session ------------------------------------------------------------------------------------------


def test_a_session_decision_still_completes_the_step(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    cw.vote_all(item, VoteChoice.LABELLED, [cw.chair, cw.secretary, cw.member])
    decision = services.decision_record(actor=cw.secretary_user, item=item, values=labelled(cw))
    case.refresh_from_db()
    assert case.status == choices.CaseStatus.PROPOSAL
    assert decision.review == case.committee_reviews.get() and decision.choice == VoteChoice.LABELLED
    # The same session decision cannot be applied a second time.
    with pytest.raises((PermissionDenied, workflow.StepConflict)):
        workflow.committee_decide(actor=cw.secretary_user, case=case, values=labelled(cw), source=decision)


def test_show_of_hands_recorded_by_the_secretary_counts(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    hands = {cw.chair.pk: VoteChoice.LABELLED, cw.member.pk: VoteChoice.LABELLED, cw.secretary.pk: ""}
    assert services.show_of_hands_record(actor=cw.secretary_user, item=item, votes=hands) == 2
    services.vote_cast(actor=cw.secretary_user, item=item, choice=VoteChoice.NOT_KEPT)  # her own vote
    votes = {v.member_id: v for v in Vote.objects.filter(item=item)}
    assert votes[cw.chair.pk].recorded_by == cw.secretary_user  # provenance: recorded for the member
    assert votes[cw.member.pk].history.get().history_user == cw.secretary_user
    assert votes[cw.secretary.pk].recorded_by is None
    tally = selectors.tally(item)
    assert (tally.counts[VoteChoice.LABELLED], tally.counted) == (2, 3)
    services.decision_record(actor=cw.secretary_user, item=item, values=labelled(cw))
    assert SessionDecision.objects.get(item=item).tally["counts"] == {"labelled": 2, "not_kept": 1}


def test_show_of_hands_only_for_present_voting_members(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary)
    with pytest.raises(ValidationError, match="membres votants présents"):
        services.show_of_hands_record(
            actor=cw.secretary_user, item=item, votes={cw.landlord_rep.pk: VoteChoice.LABELLED}
        )
    with pytest.raises(PermissionDenied):  # the secretary records it, not a member
        services.show_of_hands_record(actor=cw.world.commission, item=item, votes={cw.chair.pk: VoteChoice.LABELLED})
    assert not Vote.objects.filter(item=item).exists()


def test_show_of_hands_page(cw, client):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    login(client, cw.secretary_user)
    url = reverse("committees:item", args=[cw.session.pk, item.pk])
    assert "Enregistrer le vote à main levée" in client.get(url).content.decode()
    response = client.post(
        reverse("committees:item_hands", args=[cw.session.pk, item.pk]),
        {f"member_{cw.chair.pk}": "labelled", f"member_{cw.member.pk}": "labelled"},
    )
    assert response.status_code == 302
    assert Vote.objects.filter(item=item, recorded_by=cw.secretary_user).count() == 2


# --- written procedure ----------------------------------------------------------------------------------


def open_procedure(cw, case, days=7):
    return services.procedure_open(
        actor=cw.secretary_user,
        committee=cw.committee,
        case=case,
        deadline=timezone.localdate() + timedelta(days),
        reason="Urgence avant la prochaine séance.",
    )


def vote(procedure, *pairs):
    for seat, choice in pairs:
        services.procedure_vote(actor=seat.user, procedure=procedure, choice=choice)


def test_written_procedure_with_quorum_and_majority_completes_the_step(cw):
    case = cw.case_at_committee()
    procedure = open_procedure(cw, case)
    # The members are told (in-app at least), the secretary who opened it is not.
    told = set(Notification.objects.filter(template="written_procedure_opened").values_list("recipient", flat=True))
    assert told == {cw.chair_user.pk, cw.world.commission.pk, cw.landlord_rep_user.pk}
    assert case.pk not in selectors.eligible_cases(cw.session).values_list("pk", flat=True)  # one way at a time
    L, N = VoteChoice.LABELLED, VoteChoice.NOT_KEPT
    vote(procedure, (cw.chair, L), (cw.secretary, L), (cw.member, L))
    # Before the deadline, the landlord's representative may still answer.
    with pytest.raises(ValidationError, match="jusqu'au"):
        services.procedure_close(actor=cw.secretary_user, procedure=procedure, values=labelled(cw))
    vote(procedure, (cw.landlord_rep, N))
    with pytest.raises(ValidationError, match="majorité des voix"):  # 3 against 1: labelled, not "not kept"
        services.procedure_close(
            actor=cw.secretary_user, procedure=procedure, values={"outcome": "not_kept", "reason": "x"}
        )
    with pytest.raises(PermissionDenied):  # the secretary records the outcome
        services.procedure_close(actor=cw.chair_user, procedure=procedure, values=labelled(cw))
    procedure = services.procedure_close(actor=cw.secretary_user, procedure=procedure, values=labelled(cw))
    case.refresh_from_db()
    assert case.status == choices.CaseStatus.PROPOSAL and case.designated_landlord == cw.world.landlord
    assert procedure.status == WrittenProcedure.Status.CLOSED and procedure.review == case.committee_reviews.get()
    assert procedure.tally["counts"] == {"labelled": 3, "not_kept": 1}
    assert procedure.history.first().history_user == cw.secretary_user


def test_written_procedure_after_the_deadline(cw):
    case = cw.case_at_committee()
    procedure = open_procedure(cw, case, days=3)
    vote(procedure, (cw.chair, VoteChoice.LABELLED), (cw.member, VoteChoice.LABELLED))
    deadline = procedure.deadline
    with at(deadline):  # answers are taken until the end of the deadline day
        vote(procedure, (cw.secretary, VoteChoice.LABELLED))
    with at(deadline + timedelta(days=1)):
        with pytest.raises(ValidationError, match="date limite de réponse .* est passée"):
            vote(procedure, (cw.landlord_rep, VoteChoice.NOT_KEPT))
        services.procedure_close(actor=cw.secretary_user, procedure=procedure, values=labelled(cw))
    case.refresh_from_db()
    assert case.status == choices.CaseStatus.PROPOSAL


def test_written_procedure_without_quorum_is_refused_then_cancelled(cw):
    case = cw.case_at_committee()
    procedure = open_procedure(cw, case, days=2)
    vote(procedure, (cw.chair, VoteChoice.LABELLED), (cw.member, VoteChoice.LABELLED))  # 2 answers, 3 required
    with at(procedure.deadline + timedelta(days=1)):
        with pytest.raises(ValidationError, match="Quorum non atteint : 2 membre"):
            services.procedure_close(actor=cw.secretary_user, procedure=procedure, values=labelled(cw))
        assert still_waiting(case)
        services.procedure_cancel(actor=cw.secretary_user, procedure=procedure, reason="Quorum non atteint.")
    assert WrittenProcedure.objects.get(pk=procedure.pk).status == WrittenProcedure.Status.CANCELLED
    assert case.pk in selectors.eligible_cases(cw.session).values_list("pk", flat=True)  # free for a session


def test_written_procedure_tie_is_refused_even_with_the_chair(cw):
    case = cw.case_at_committee()
    procedure = open_procedure(cw, case)
    L, N = VoteChoice.LABELLED, VoteChoice.NOT_KEPT
    vote(procedure, (cw.chair, L), (cw.secretary, N), (cw.member, L), (cw.landlord_rep, N))
    with pytest.raises(ValidationError, match="ne départage pas une égalité"):
        services.procedure_close(actor=cw.secretary_user, procedure=procedure, values=labelled(cw))
    assert still_waiting(case)


def test_written_procedure_recusal_removes_the_vote_from_tally_and_quorum(cw):
    case = cw.case_at_committee()
    procedure = open_procedure(cw, case)
    L, N = VoteChoice.LABELLED, VoteChoice.NOT_KEPT
    vote(procedure, (cw.chair, L), (cw.secretary, L), (cw.member, L), (cw.landlord_rep, N))
    services.procedure_recusal(
        actor=cw.landlord_rep_user, procedure=procedure, member=cw.landlord_rep, reason="Bailleur concerné"
    )
    tally = selectors.procedure_tally(procedure)
    assert (tally.counted, tally.recused) == (3, 1)
    quorum = selectors.procedure_quorum(procedure, tally)
    assert (quorum.responded, quorum.eligible, quorum.everyone_answered) == (3, 3, True)
    services.procedure_close(actor=cw.secretary_user, procedure=procedure, values=labelled(cw))
    assert WrittenProcedure.objects.get(pk=procedure.pk).tally["recused"] == 1


def test_dalo_loss_review_goes_through_the_committee_too(cw):
    world = cw.world
    case = steps.label(world, steps.diagnose(world, world.flag(is_dalo=True)))
    case = steps.refuse(world, steps.allocate(world, steps.propose(world, case)))
    assert case.dalo_loss_review_pending
    values = {"dalo_benefit_lost": True, "offer_adapted": True, "reason": "Offre adaptée refusée."}
    with pytest.raises(PermissionDenied):
        workflow.committee_decide(actor=world.commission, case=case, values=values)
    procedure = open_procedure(cw, case)
    assert procedure.kind == CommitteeReview.Kind.DALO_LOSS
    with pytest.raises(ValidationError):
        services.procedure_vote(actor=cw.chair_user, procedure=procedure, choice=VoteChoice.LABELLED)
    C = VoteChoice.LOSS_CONFIRMED
    vote(procedure, (cw.chair, C), (cw.secretary, C), (cw.member, C), (cw.landlord_rep, C))
    services.procedure_close(actor=cw.secretary_user, procedure=procedure, values=values)
    case.refresh_from_db()
    assert case.closure_reason == choices.ClosureReason.DALO_BENEFIT_LOST


def test_procedure_pages(cw, client):
    case = cw.case_at_committee()
    login(client, cw.secretary_user)
    url = reverse("committees:procedure_open", args=[cw.committee.pk])
    page = client.get(url + f"?dossier={case.pk}").content.decode()
    assert "Réponses attendues au plus tard le" in page and "<legend" in page
    past = client.post(url, {"case": case.pk, "deadline": timezone.localdate().isoformat()})
    assert past.status_code == 400 and escape("postérieure à aujourd'hui") in past.content.decode()
    response = client.post(url, {"case": case.pk, "deadline": "2099-01-31"})
    procedure = WrittenProcedure.objects.get(case=case)
    assert response.status_code == 302 and response["Location"] == reverse("committees:procedure", args=[procedure.pk])
    login(client, cw.world.commission)
    page = client.get(response["Location"]).content.decode()
    assert "Fiche de synthèse" in page and 'name="choice"' in page
    assert 'name="outcome"' not in page  # the outcome is the secretary's
    assert (
        client.post(reverse("committees:procedure_vote", args=[procedure.pk]), {"choice": "labelled"}).status_code
        == 302
    )
    login(client, cw.secretary_user)
    page = client.get(response["Location"]).content.decode()
    assert "data-outcome-form" in page and "<script>" in page and 'data-outcomes="adjourned"' in page


# --- fields per outcome ---------------------------------------------------------------------------------


def test_decision_form_keeps_only_the_fields_of_the_chosen_outcome(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    everything = {
        "outcome": "labelled",
        "orientation": "ordinary",
        "designated_landlord": cw.world.landlord.pk,
        "support_measure": "asll",
        "missing_items": "Avis d'imposition",
        "adjourned_until": "2099-01-15",
        "redirected_to": "siao",
    }
    form = DecisionForm(everything, item=item)
    assert form.is_valid(), form.errors
    data = form.cleaned_data
    assert data["designated_landlord"] == cw.world.landlord
    assert (data["missing_items"], data["adjourned_until"], data["redirected_to"]) == (None, None, None)

    form = DecisionForm({"outcome": "labelled", "orientation": "ordinary"}, item=item)
    assert not form.is_valid()
    assert set(form.errors) == {"designated_landlord", "support_measure"}
    form = DecisionForm({"outcome": "adjourned", "orientation": "ordinary"}, item=item)
    assert not form.is_valid() and set(form.errors) == {"missing_items", "adjourned_until"}
    form = DecisionForm({"outcome": "not_kept"}, item=item)
    assert not form.is_valid() and set(form.errors) == {"reason"}
    form = DecisionForm({"outcome": "redirected", "reason": "Hébergement d'urgence"}, item=item)
    assert not form.is_valid() and set(form.errors) == {"redirected_to"}
    html = str(DecisionForm(item=item))
    assert 'data-outcomes="labelled"' in html and 'data-outcomes="adjourned"' in html


def test_letter_to_the_household_after_a_written_procedure(cw, client):
    from .test_documents import text_of

    case = cw.case_at_committee()
    procedure = open_procedure(cw, case)
    L = VoteChoice.LABELLED
    vote(procedure, (cw.chair, L), (cw.secretary, L), (cw.member, L), (cw.landlord_rep, L))
    url = reverse("committees:procedure_letter", args=[procedure.pk])
    login(client, cw.secretary_user)
    assert client.get(url).status_code == 404  # no decision yet
    services.procedure_close(actor=cw.secretary_user, procedure=procedure, values=labelled(cw))
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "par procédure écrite" in text_of(response.content)
    login(client, cw.world.commission)
    assert client.get(url).status_code == 404  # the bureau's, as in sessions
