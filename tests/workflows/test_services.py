from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from viewflow.workflow.models import Task

from cases import choices
from cases.models import Case, CommitteeReview, Proposal
from workflows import services
from workflows.flows import CaseFlow
from workflows.models import ACTIVE

from . import steps

pytestmark = pytest.mark.django_db


def open_nodes(case):
    return sorted(t.flow_task.name for t in Task.objects.filter(process__caseprocess__case=case, status__in=ACTIVE))


def test_flag_to_rehoused_with_one_refusal(world):
    case = world.flag()
    assert case.status == choices.CaseStatus.DIAGNOSTIC
    assert open_nodes(case) == ["diagnostic"]

    case = steps.diagnose(world, case)
    assert case.status == choices.CaseStatus.COMMITTEE
    case = steps.label(world, case)
    assert (case.status, case.designated_landlord) == (choices.CaseStatus.PROPOSAL, world.landlord)
    case = steps.propose(world, case)
    assert case.proposals.get().reply_deadline == date(2026, 11, 12)
    case = steps.allocate(world, case)
    case = steps.refuse(world, case)
    assert (case.status, case.refusal_count) == (choices.CaseStatus.PROPOSAL, 1)
    case = steps.propose(world, case, world.dwelling2)
    case = steps.allocate(world, case)
    case = steps.accept(world, case)
    assert case.status == choices.CaseStatus.LEASE
    case = steps.sign(world, case)

    assert case.status == choices.CaseStatus.CLOSED
    assert case.closure_reason == choices.ClosureReason.REHOUSED_SOCIAL
    assert open_nodes(case) == []
    process = case.processes.get()
    assert process.status == "DONE"
    done = list(
        Task.objects.filter(process=process, flow_task_type="HUMAN")
        .order_by("created")
        .values_list("owner__username", flat=True)
    )
    assert done == [
        "ts",
        "secretariat-test",  # the committee's secretary records the collective decision
        "bailleur",
        "bailleur",
        "bailleur",
        "bailleur",
        "bailleur",
        "bailleur",
        "bailleur",
    ]


def test_adjourned_goes_back_to_diagnostic(world):
    case = steps.diagnose(world, world.flag())
    case = steps.decide(
        world,
        case,
        {
            "outcome": choices.CommitteeOutcome.ADJOURNED,
            "missing_items": "Avis d'imposition",
            "adjourned_until": date(2026, 12, 15),
        },
    )
    assert case.status == choices.CaseStatus.DIAGNOSTIC
    assert case.diagnostic.completed_at is None
    assert open_nodes(case) == ["diagnostic"]
    case = steps.diagnose(world, case)
    assert case.status == choices.CaseStatus.COMMITTEE


@pytest.mark.parametrize(
    "values, reason",
    [
        ({"outcome": choices.CommitteeOutcome.NOT_KEPT, "reason": "Critères non remplis"}, "not_kept"),
        ({"outcome": choices.CommitteeOutcome.REDIRECTED, "redirected_to": "siao"}, "redirected"),
    ],
)
def test_committee_closing_outcomes(world, values, reason):
    case = steps.diagnose(world, world.flag())
    case = steps.decide(world, case, values)
    assert (case.status, case.closure_reason) == (choices.CaseStatus.CLOSED, reason)
    assert case.processes.get().status == "DONE"


def test_close_early_cancels_open_step_and_revokes_grants(world):
    case = world.flag()
    assert world.social_worker.has_perm("cases.do_diagnostic", case)
    case = services.case_close(actor=world.social_worker, case=case, reason="withdrawn", comment="Le ménage renonce.")
    assert case.closure_reason == "withdrawn"
    assert open_nodes(case) == []
    assert case.processes.get().status == "CANCELED"
    fresh = type(world.social_worker).objects.get(pk=world.social_worker.pk)
    assert not fresh.has_perm("cases.do_diagnostic", case)


def test_close_needs_reason_and_scope(world):
    case = world.flag()
    with pytest.raises(ValidationError):
        services.case_close(actor=world.social_worker, case=case, reason="withdrawn", comment=" ")
    with pytest.raises(PermissionDenied):
        services.case_close(actor=world.landlord_agent, case=case, reason="withdrawn", comment="x")
    assert Case.objects.get(pk=case.pk).is_open


def test_dalo_refusal_without_legitimate_motive_goes_to_committee(world):
    case = world.flag(is_dalo=True)
    assert case.dalo_offer_deadline == date(2027, 3, 1)  # 6 months in the Var (R441-16-1 CCH)
    case = steps.label(world, steps.diagnose(world, case))
    case = steps.allocate(world, steps.propose(world, case))
    case = steps.refuse(world, case, motive=choices.RefusalMotive.LOCATION)
    assert case.status == choices.CaseStatus.COMMITTEE
    assert case.dalo_loss_review_pending
    case = steps.decide(
        world, case, {"dalo_benefit_lost": True, "offer_adapted": True, "reason": "Offre adaptée refusée."}
    )
    assert case.closure_reason == choices.ClosureReason.DALO_BENEFIT_LOST
    assert case.committee_reviews.last().kind == CommitteeReview.Kind.DALO_LOSS


def test_dalo_loss_not_confirmed_returns_to_proposal(world):
    case = steps.label(world, steps.diagnose(world, world.flag(is_dalo=True)))
    case = steps.refuse(world, steps.allocate(world, steps.propose(world, case)))
    case = steps.decide(world, case, {"dalo_benefit_lost": False, "reason": "Ménage mal informé."})
    assert (case.status, case.dalo_loss_review_pending) == (choices.CaseStatus.PROPOSAL, False)


def test_dalo_legitimate_refusal_goes_back_to_proposal(world):
    case = steps.label(world, steps.diagnose(world, world.flag(is_dalo=True)))
    case = steps.refuse(
        world, steps.allocate(world, steps.propose(world, case)), motive=choices.RefusalMotive.FLOOR_ACCESS
    )
    assert case.status == choices.CaseStatus.PROPOSAL
    assert not case.dalo_loss_review_pending


def test_dalo_offer_needs_prior_notice(world):
    case = steps.label(world, steps.diagnose(world, world.flag(is_dalo=True)))
    with pytest.raises(ValidationError) as error:
        services.proposal_make(actor=world.landlord_agent, case=case, values={"dwelling": world.dwelling})
    assert "dalo_notice_given_at" in error.value.message_dict
    assert not Proposal.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).status == choices.CaseStatus.PROPOSAL


def test_not_allocated_goes_back_to_proposal_and_inadmissible_closes(world):
    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    case = services.caleol_record(
        actor=world.landlord_agent,
        case=case,
        values={
            "decision": "not_allocated",
            "non_allocation_reason": "unsuitable_size",
            "decided_on": date(2026, 11, 10),
        },
    )
    assert case.status == choices.CaseStatus.PROPOSAL
    case = steps.propose(world, case, world.dwelling2)
    case = services.caleol_record(
        actor=world.landlord_agent,
        case=case,
        values={
            "decision": "inadmissible",
            "inadmissibility_reason": "irregular_residence",
            "decided_on": date(2026, 11, 10),
        },
    )
    assert case.closure_reason == choices.ClosureReason.INADMISSIBLE


def test_user_without_grant_cannot_claim_or_execute(world):
    case = world.flag()
    with pytest.raises(PermissionDenied):
        services.task_claim(actor=world.landlord_agent, case=case, node_name="diagnostic")
    with pytest.raises(PermissionDenied):
        services.diagnostic_complete(actor=world.commission, case=case, values=steps.DIAGNOSTIC)
    case = steps.label(world, steps.diagnose(world, case))
    with pytest.raises(PermissionDenied):
        services.proposal_make(actor=world.other_landlord_agent, case=case, values={"dwelling": world.dwelling})
    assert Case.objects.get(pk=case.pk).status == choices.CaseStatus.PROPOSAL


def test_claimed_step_cannot_be_done_by_colleague(world):
    case = world.flag()
    services.task_claim(actor=world.social_worker, case=case, node_name="diagnostic")
    with pytest.raises(PermissionDenied):
        services.diagnostic_complete(actor=world.colleague, case=case, values=steps.DIAGNOSTIC)
    steps.diagnose(world, case)


def test_one_open_case_per_household(world):
    household = world.household()
    world.flag(household)
    with pytest.raises(ValidationError):
        world.flag(household)


def test_step_done_twice_is_a_conflict(world):
    case = steps.diagnose(world, world.flag())
    with pytest.raises(services.StepConflict):
        steps.diagnose(world, case)


def test_bad_caleol_input_saves_nothing(world):
    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    with pytest.raises(ValidationError) as error:
        services.caleol_record(
            actor=world.landlord_agent,
            case=case,
            values={"decision": "suspensive_condition", "decided_on": date(2026, 11, 10)},
        )
    assert set(error.value.message_dict) == {"missing_document", "condition_deadline"}
    assert Case.objects.get(pk=case.pk).status == choices.CaseStatus.CALEOL
    assert CaseFlow.caleol.name in open_nodes(case)
