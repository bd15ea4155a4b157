"""The step pages, the inbox and the claim button, driven through HTTP as each role."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils.html import escape
from viewflow.workflow.models import Task

from cases import choices
from cases.models import CaleolDecision, CommitteeReview, Diagnostic, HouseholdReply, Proposal
from permissions.queues import task_inbox_for, task_queue_for
from permissions.roles import Role
from tests.factories import member
from workflows import services

from . import http, steps

pytestmark = pytest.mark.django_db


def reload(case):
    case.refresh_from_db()
    return case


def test_whole_path_with_a_refusal_through_http(world, client):
    case = world.flag()
    http.assert_done(http.diagnose(client, world, case), case)
    assert reload(case).status == choices.CaseStatus.COMMITTEE
    assert case.diagnostic.social_narrative.startswith("Récit détaillé")

    http.assert_decided(http.label(client, world, case), case)
    assert (reload(case).status, case.designated_landlord) == (choices.CaseStatus.PROPOSAL, world.landlord)

    http.assert_done(http.propose(client, world, case), case)
    assert case.proposals.get().reply_deadline == date(2026, 11, 12)  # 10 days by default
    http.assert_done(http.caleol(client, world, case), case)
    response = http.reply(client, world, case, choices.ReplyAnswer.REFUSED, refusal_motive=choices.RefusalMotive.SIZE)
    http.assert_done(response, case)
    assert (reload(case).status, case.refusal_count) == (choices.CaseStatus.PROPOSAL, 1)

    http.assert_done(http.propose(client, world, case, world.dwelling2), case)
    http.assert_done(http.caleol(client, world, case), case)
    http.assert_done(http.reply(client, world, case), case)
    assert reload(case).status == choices.CaseStatus.LEASE
    http.assert_done(http.sign(client, world, case), case)
    assert reload(case).status == choices.CaseStatus.CLOSED
    assert case.closure_reason == choices.ClosureReason.REHOUSED_SOCIAL

    client.force_login(world.social_worker)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Relogé dans le parc social" in page
    done = page.split("Étapes réalisées")[1]
    assert done.count("<strong>Proposition de logement</strong>") == 2
    secretary = steps.secretary(world)  # who recorded the committee's written procedure
    assert f"<strong>Examen en commission</strong> –\n    {secretary.get_full_name()}" in done
    assert "<strong>Signature du bail</strong>" in done


def test_adjourned_goes_back_to_the_diagnostic(world, client):
    case = steps.diagnose(world, world.flag())
    data = {
        "outcome": choices.CommitteeOutcome.ADJOURNED,
        "missing_items": "Avis d'imposition",
        "adjourned_until": "2099-01-15",
    }
    response = http.decide(client, world, case, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert reload(case).status == choices.CaseStatus.DIAGNOSTIC
    # The social worker completes the file and the committee sees the case again.
    http.assert_done(http.diagnose(client, world, case), case)
    response = http.label(client, world, case)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert reload(case).status == choices.CaseStatus.PROPOSAL


def test_not_allocated_goes_back_to_a_proposal(world, client):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    http.assert_done(http.propose(client, world, case), case)
    response = http.caleol(
        client,
        world,
        case,
        decision=choices.CaleolDecisionType.NOT_ALLOCATED,
        non_allocation_reason=choices.NonAllocationReason.UNSUITABLE_SIZE,
    )
    http.assert_done(response, case)
    assert reload(case).status == choices.CaseStatus.PROPOSAL


def test_dalo_refusal_goes_back_to_the_committee_which_rules_on_the_loss(world, client):
    case = steps.label(world, steps.diagnose(world, world.flag(is_dalo=True)))
    # Without the DALO notice the offer cannot go out.
    response = http.propose(client, world, case)
    assert escape("Ménage DALO : indiquez quand il a été informé") in response.content.decode()
    assert not Proposal.objects.filter(case=case).exists()
    http.assert_done(http.propose(client, world, case, dalo_notice_given_at="2026-11-01T10:00"), case)
    http.assert_done(http.caleol(client, world, case), case)
    response = http.reply(
        client, world, case, choices.ReplyAnswer.REFUSED, refusal_motive=choices.RefusalMotive.LOCATION
    )
    http.assert_done(response, case)
    assert reload(case).status == choices.CaseStatus.COMMITTEE
    assert case.dalo_loss_review_pending

    client.force_login(world.commission)
    page = client.get(http.step_url(case, "committee")).content.decode()
    assert "perte du bénéfice DALO" in page
    assert 'name="dalo_benefit_lost"' not in page  # nobody decides alone from the step page
    data = {
        "dalo_benefit_lost": "true",
        "offer_adapted": "true",
        "reason": "Offre adaptée refusée sans motif légitime.",
    }
    response = http.decide(client, world, case, data)
    procedure = case.written_procedures.get(kind=CommitteeReview.Kind.DALO_LOSS)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert reload(case).closure_reason == choices.ClosureReason.DALO_BENEFIT_LOST
    assert procedure.review.dalo_benefit_lost is True


def test_dalo_loss_not_confirmed_goes_back_to_proposals(world, client):
    case = steps.label(world, steps.diagnose(world, world.flag(is_dalo=True)))
    case = steps.refuse(world, steps.allocate(world, steps.propose(world, case)))
    assert case.dalo_loss_review_pending
    data = {"dalo_benefit_lost": "false", "reason": "Motif finalement jugé légitime."}
    response = http.decide(client, world, case, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert reload(case).status == choices.CaseStatus.PROPOSAL
    assert not case.dalo_loss_review_pending


def test_closed_early_from_the_case_page(world, client):
    case = steps.diagnose(world, world.flag())
    client.force_login(world.social_worker)
    url = reverse("cases:close", args=[case.pk])
    response = client.post(url, {"reason": choices.ClosureReason.WITHDRAWN, "comment": "Le ménage a déménagé."})
    assert response.status_code == 302
    assert reload(case).closure_reason == choices.ClosureReason.WITHDRAWN
    assert services.active_task(case) is None
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Désistement du ménage" in page
    assert "Clore le dossier" not in page


def test_close_needs_the_close_right_and_a_comment(world, client):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    url = reverse("cases:close", args=[case.pk])
    client.force_login(world.landlord_agent)  # sees the case, may not close it
    assert "Clore le dossier" not in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert client.post(url, {"reason": "withdrawn", "comment": "x"}).status_code == 404
    client.force_login(world.social_worker)
    response = client.post(url, {"reason": "withdrawn", "comment": ""})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    assert reload(case).is_open


# --- who may open a step ------------------------------------------------------------------------------


def test_user_without_the_grant_gets_404_and_cannot_claim(world, client):
    case = world.flag()
    # The auditor sees every case but holds no step grant; the landlord does not see the case at all.
    for user in (world.auditor, world.landlord_agent, world.commission):
        client.force_login(user)
        assert client.get(http.step_url(case, "diagnostic")).status_code == 404
        assert client.post(http.step_url(case, "diagnostic"), http.DIAGNOSTIC).status_code == 404
        assert client.post(reverse("workflows:claim", args=[case.pk, "diagnostic"])).status_code == 404
    task = services.active_task(case, "diagnostic")
    assert task.owner is None
    assert reload(case).status == choices.CaseStatus.DIAGNOSTIC


def test_a_step_taken_by_a_colleague_is_not_open_to_others(world, client):
    case = world.flag()
    client.force_login(world.social_worker)
    response = client.post(reverse("workflows:claim", args=[case.pk, "diagnostic"]))
    assert response.status_code == 302
    assert services.active_task(case).owner == world.social_worker
    client.force_login(world.colleague)
    assert client.get(http.step_url(case, "diagnostic")).status_code == 404
    assert client.post(reverse("workflows:claim", args=[case.pk, "diagnostic"])).status_code == 404


def test_step_pages_are_404_outside_scope_or_when_the_step_is_not_open(world, client):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    client.force_login(world.other_landlord_agent)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert client.get(http.step_url(case, "proposal")).status_code == 404
    client.force_login(world.landlord_agent)
    assert client.get(http.step_url(case, "proposal")).status_code == 200
    assert client.get(http.step_url(case, "caleol")).status_code == 404  # not open yet
    assert client.get(http.step_url(case, "nosuchstep")).status_code == 404
    assert client.get(http.step_url(case, "after_committee")).status_code == 404


def test_proposal_form_only_offers_the_landlords_own_dwellings(world, client):
    from tests.factories import DwellingFactory

    foreign = DwellingFactory(landlord=world.other_landlord, address="1 rue Étrangère")
    case = steps.label(world, steps.diagnose(world, world.flag()))
    client.force_login(world.landlord_agent)
    page = client.get(http.step_url(case, "proposal")).content.decode()
    assert escape(world.dwelling.address) in page
    assert "rue Étrangère" not in page
    response = http.propose(client, world, case, foreign)
    assert response.status_code == 200
    assert not Proposal.objects.filter(case=case).exists()


# --- bad input: a French message next to the field, nothing saved -----------------------------------


def assert_field_error(response, field, message):
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(message) in page
    assert f'id="id_{field}_error"' in page
    assert (
        f'aria-describedby="id_{field}_error"' in page
        or f'aria-describedby="id_{field}_helptext id_{field}_error"' in page
    )
    assert 'class="error-summary"' in page


def test_bad_diagnostic_input(world, client):
    case = world.flag()
    response = http.diagnose(client, world, case, monthly_resources="-5")
    assert_field_error(response, "monthly_resources", "Assurez-vous que cette valeur est supérieure ou égale à 0.")
    assert reload(case).status == choices.CaseStatus.DIAGNOSTIC
    assert Diagnostic.objects.get(case=case).completed_at is None
    assert Diagnostic.objects.get(case=case).social_narrative == ""


def test_bad_committee_input(world, client):
    case = steps.diagnose(world, world.flag())
    data = {"outcome": choices.CommitteeOutcome.LABELLED, "orientation": choices.Orientation.ORDINARY}
    response = http.decide(client, world, case, data)
    page = response.content.decode()
    assert response.status_code == 400  # the written procedure's page, nothing saved
    assert escape("Désignez le bailleur qui fera les propositions.") in page
    assert 'id="id_designated_landlord_error"' in page
    assert 'class="error-summary"' in page
    assert not CommitteeReview.objects.filter(case=case).exists()
    assert reload(case).status == choices.CaseStatus.COMMITTEE


def test_bad_proposal_input(world, client):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    response = http.propose(client, world, case, reply_deadline="2026-11-05")
    assert_field_error(response, "reply_deadline", "Le délai de réponse doit être d'au moins 10 jours")
    assert not Proposal.objects.filter(case=case).exists()
    assert reload(case).status == choices.CaseStatus.PROPOSAL


def test_bad_caleol_input(world, client):
    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    response = http.caleol(client, world, case, decision=choices.CaleolDecisionType.ALLOCATED_RANKED)
    assert_field_error(response, "rank", "Indiquez le rang du ménage dans le classement.")
    response = http.caleol(client, world, case, decided_on="pas une date")
    assert_field_error(response, "decided_on", "Saisissez une date valide.")
    assert not CaleolDecision.objects.exists()
    assert reload(case).status == choices.CaseStatus.CALEOL


def test_bad_reply_input(world, client):
    case = steps.allocate(world, steps.propose(world, steps.label(world, steps.diagnose(world, world.flag()))))
    response = http.reply(client, world, case, choices.ReplyAnswer.REFUSED)
    assert_field_error(response, "refusal_motive", "Indiquez le motif du refus.")
    assert not HouseholdReply.objects.exists()
    assert reload(case).refusal_count == 0


def test_bad_lease_input(world, client):
    case = steps.allocate(world, steps.propose(world, steps.label(world, steps.diagnose(world, world.flag()))))
    case = steps.accept(world, case)
    response = http.sign(client, world, case, signed_on="2026-01-01")
    assert_field_error(response, "signed_on", "Le bail ne peut pas être signé avant la décision de la CALEOL.")
    assert reload(case).status == choices.CaseStatus.LEASE
    assert case.proposals.get().lease_signed_on is None


def test_a_step_done_meanwhile_answers_a_clear_message(world, client):
    case = world.flag()
    client.force_login(world.social_worker)
    assert client.get(http.step_url(case, "diagnostic")).status_code == 200
    steps.diagnose(world, case)  # done in another tab
    response = client.post(http.step_url(case, "diagnostic"), http.DIAGNOSTIC, follow=True)
    assert response.redirect_chain[-1][0] == reverse("cases:detail", args=[case.pk])
    assert escape("Cette étape a déjà été enregistrée") in response.content.decode()
    assert Task.objects.filter(process__caseprocess__case=case, flow_task_type="HUMAN").count() == 2


# --- inbox and queue ---------------------------------------------------------------------------------


def test_inbox_lists_my_tasks_and_the_queue_and_claims(world, client):
    first, second = world.flag(), world.flag()
    client.force_login(world.social_worker)
    page = client.get(reverse("workflows:inbox")).content.decode()
    assert first.reference in page and second.reference in page
    assert "Prendre en charge" in page
    client.post(reverse("workflows:claim", args=[first.pk, "diagnostic"]))
    assert [t.pk for t in task_inbox_for(world.social_worker)] == [services.active_task(first).pk]
    assert [t.process.caseprocess.case for t in task_queue_for(world.social_worker)] == [second]
    # Nothing for the landlord at this stage, nor for the auditor who sees the cases.
    assert not task_queue_for(world.landlord_agent)
    assert not task_queue_for(world.auditor)
    client.force_login(world.landlord_agent)
    page = client.get(reverse("workflows:inbox")).content.decode()
    assert first.reference not in page and second.reference not in page


def test_queue_matches_viewflow_on_who_may_take_what(world):
    cases = [world.flag() for _ in range(3)]
    steps.diagnose(world, cases[0])
    steps.label(world, steps.diagnose(world, cases[1]))
    for user in (world.social_worker, world.commission, world.landlord_agent, world.supervisor, world.auditor):
        ours = {t.pk for t in task_queue_for(user)}
        theirs = {
            t.pk for t in Task.objects.filter(flow_task_type="HUMAN", status="NEW") if t.flow_task.can_assign(user, t)
        }
        assert ours == theirs, user.username


def test_inbox_costs_a_bounded_number_of_queries_whatever_the_grants(world, client, django_assert_max_num_queries):
    commission = world.commission
    client.force_login(commission)

    def make(n):
        for _ in range(n):
            steps.diagnose(world, world.flag())

    make(2)
    steps.diagnose(world, world.flag())
    services.task_claim(actor=commission, case=steps.diagnose(world, world.flag()), node_name="committee")
    # Session, user, memberships, unread count; my page; groups, queue walk, queue rows; due dates
    # (communes, territory limits, clock pauses): 11, whatever the number of tasks and grants.
    with django_assert_max_num_queries(11) as few:
        client.get(reverse("workflows:inbox"))
    make(40)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(reverse("workflows:inbox"))
    assert response.content.decode().count("Prendre en charge<span") == 43
    assert len(many.captured_queries) == len(few.captured_queries)


def test_reception_agent_and_supervisor_roles(world, client):
    reception = member(Role.RECEPTION, world.ccas, username="accueil")
    case = world.flag()
    client.force_login(reception)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert client.get(http.step_url(case, "diagnostic")).status_code == 404  # reception does no diagnostic
    client.force_login(world.supervisor)
    assert client.get(http.step_url(case, "diagnostic")).status_code == 200


def test_the_social_worker_may_record_the_reply_and_the_chair_may_close(world, client):
    case = steps.allocate(world, steps.propose(world, steps.label(world, steps.diagnose(world, world.flag()))))
    data = {"answer": choices.ReplyAnswer.ACCEPTED, "replied_on": "2026-11-15", "legitimate": "unknown"}
    http.assert_done(http.post_step(client, world.social_worker, case, "reply", data), case)
    assert reload(case).status == choices.CaseStatus.LEASE
    assert case.proposals.get().reply.history.first().history_user == world.social_worker

    chair = member(Role.COMMISSION_CHAIR, world.state, communes=["83137"], username="presidente")
    reservataire = member(Role.RESERVATAIRE_AGENT, world.reservataire, username="al")
    client.force_login(reservataire)  # the target réservataire follows the case, may not close it
    assert "Clore le dossier" not in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    client.force_login(chair)
    response = client.post(
        reverse("cases:close", args=[case.pk]),
        {"reason": choices.ClosureReason.REHOUSED_PRIVATE, "comment": "Relogé dans le parc privé."},
    )
    assert response.status_code == 302
    assert reload(case).closure_reason == choices.ClosureReason.REHOUSED_PRIVATE


def test_proposal_step_shows_the_match_check_and_needs_a_reason(world, client):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    response = http.propose(client, world, case, match_override_reason="")
    page = response.content.decode()
    assert response.status_code in (200, 400)
    assert "Typologie T3 peu adaptée" in page and escape("indiquez pourquoi") in page
    assert not Proposal.objects.filter(case=case).exists()
    http.assert_done(http.propose(client, world, case), case)
    assert Proposal.objects.get(case=case).match_warnings[0]["code"] == "typology"


def test_inbox_pages_through_a_long_queue(world, client):
    cases = [world.flag() for _ in range(53)]
    client.force_login(world.social_worker)
    first = client.get(reverse("workflows:inbox")).content.decode()
    second = client.get(reverse("workflows:inbox") + "?page_available=2").content.decode()
    assert first.count("Prendre en charge<span") == 50 and "?page_available=2" in first
    assert second.count("Prendre en charge<span") == 3 and "?page_available=1" in second
    shown = [c.reference for c in cases if c.reference in first] + [c.reference for c in cases if c.reference in second]
    assert sorted(shown) == sorted(c.reference for c in cases)  # each case once, none lost between pages
    assert client.get(reverse("workflows:inbox") + "?page_available=abc").status_code == 200
