from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import choices
from cases.models import Case, CommitteeReview
from committees import selectors, services
from committees.models import Amendment, Committee, Minutes, SessionDecision, VoteChoice
from permissions.models import Membership
from permissions.policy import Action, policy
from permissions.roles import Role
from tests.factories import NANTES, commune
from tests.workflows import steps
from workflows.services import StepConflict

from .conftest import LABELLED

pytestmark = pytest.mark.django_db


def labelled(cw):
    return {**LABELLED, "designated_landlord": cw.world.landlord, "target_reservataire": cw.world.reservataire}


def fresh(user):
    """A new user object: memberships are cached per object."""
    return type(user).objects.get(pk=user.pk)


# --- members ------------------------------------------------------------------------------------------


def test_seat_gives_commission_role_territory_and_step_grant(cw):
    case = cw.case_at_committee()
    membership = Membership.objects.get(user=cw.chair_user)
    assert membership.role == Role.COMMISSION_CHAIR
    assert Membership.objects.get(user=cw.landlord_rep_user, role=Role.COMMISSION_MEMBER).organisation == (
        cw.world.landlord
    )
    for user in cw.users():
        user = fresh(user)
        assert policy.can(user, Action.VIEW, case)
        assert user.has_perm("cases.review_in_committee", case)


def test_seat_added_after_case_reached_committee_gets_the_grant(cw):
    case = cw.case_at_committee()
    from tests.factories import OrganisationFactory, UserFactory

    org = OrganisationFactory(name="Département du Var (test)", covers=["44109"])  # covers Nantes only
    user = UserFactory(username="tardif")
    assert not user.has_perm("cases.review_in_committee", case)
    cw.seat(user, org)
    membership = Membership.objects.get(user=user)
    assert set(membership.communes.values_list("pk", flat=True)) >= {"83137", "83126", "44109"}
    assert fresh(user).has_perm("cases.review_in_committee", case)


def test_only_admin_or_bureau_seats_members(cw):
    from tests.factories import UserFactory

    with pytest.raises(PermissionDenied):
        services.committee_member_add(
            actor=cw.world.commission, committee=cw.committee, user=UserFactory(), organisation=cw.world.state
        )


def test_removing_seat_ends_membership_it_created_only(cw):
    services.committee_member_remove(actor=cw.admin, seat=cw.landlord_rep)
    assert not Membership.objects.get(user=cw.landlord_rep_user).is_active
    services.committee_member_remove(actor=cw.admin, seat=cw.member)
    # The world's commission member held this membership before being seated: it stays.
    assert Membership.objects.get(user=cw.world.commission).is_active


# --- agenda -------------------------------------------------------------------------------------------


def test_agenda_order_dalo_deadline_then_urgency_then_waiting(cw):
    older = cw.case_at_committee()
    critical = cw.world.flag()
    critical = services_diagnose(cw, critical, urgency=choices.Urgency.CRITICAL)
    dalo = cw.case_at_committee(is_dalo=True)
    assert dalo.dalo_offer_deadline
    newer = cw.case_at_committee()
    assert [c.pk for c in selectors.awaiting_cases(cw.committee)] == [dalo.pk, critical.pk, older.pk, newer.pk]

    assert services.agenda_fill(actor=cw.secretary_user, session=cw.session) == 4
    items = list(cw.session.items.all())
    assert [i.case_id for i in items] == [dalo.pk, critical.pk, older.pk, newer.pk]
    assert [i.position for i in items] == [1, 2, 3, 4]

    services.agenda_move(actor=cw.secretary_user, item=items[3], offset=-1)
    services.agenda_remove(actor=cw.secretary_user, item=items[0])
    assert [(i.case_id, i.position) for i in cw.session.items.all()] == [
        (critical.pk, 1),
        (newer.pk, 2),
        (older.pk, 3),
    ]
    # The removed case can go on the agenda again.
    assert selectors.eligible_cases(cw.session).filter(pk=dalo.pk).exists()


def services_diagnose(cw, case, **overrides):
    from workflows.services import diagnostic_complete

    return diagnostic_complete(actor=cw.world.social_worker, case=case, values={**steps.DIAGNOSTIC, **overrides})


def test_agenda_refuses_other_territory_busy_cases_and_non_secretary(cw):
    elsewhere = cw.world.flag(cw.world.household(commune=commune(NANTES)))
    steps.diagnose(cw.world, elsewhere)
    with pytest.raises(ValidationError) as err:
        services.agenda_add(actor=cw.secretary_user, session=cw.session, case=elsewhere)
    assert "case" in err.value.message_dict

    case = cw.case_at_committee()
    with pytest.raises(PermissionDenied):
        services.agenda_add(actor=cw.chair_user, session=cw.session, case=case)
    services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    other = services.session_create(
        actor=cw.secretary_user, committee=cw.committee, starts_at=timezone.now() + timedelta(days=30), place="Mairie"
    )
    with pytest.raises(ValidationError):
        services.agenda_add(actor=cw.secretary_user, session=other, case=case)


def test_session_needs_place_or_link(cw):
    with pytest.raises(ValidationError) as err:
        services.session_create(actor=cw.secretary_user, committee=cw.committee, starts_at=timezone.now())
    assert "place" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        services.session_create(
            actor=cw.world.commission, committee=cw.committee, starts_at=timezone.now(), place="Mairie"
        )


# --- votes, recusal, quorum, decisions ----------------------------------------------------------------


def test_advance_votes_tally_and_recusal(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    services.vote_cast(actor=cw.chair_user, item=item, choice=VoteChoice.LABELLED)
    services.vote_cast(actor=cw.world.commission, item=item, choice=VoteChoice.ADJOURNED, comment="Ressources ?")
    services.vote_cast(actor=cw.world.commission, item=item, choice=VoteChoice.LABELLED)  # changes their mind
    services.vote_cast(actor=cw.landlord_rep_user, item=item, choice=VoteChoice.NOT_KEPT)
    assert item.votes.count() == 3
    tally = selectors.tally(item)
    assert (tally.counts[VoteChoice.LABELLED], tally.counts[VoteChoice.NOT_KEPT], tally.counted) == (2, 1, 3)

    with pytest.raises(ValidationError):
        services.vote_cast(actor=cw.chair_user, item=item, choice=VoteChoice.LOSS_CONFIRMED)
    with pytest.raises(PermissionDenied):
        services.vote_cast(actor=cw.world.social_worker, item=item, choice=VoteChoice.LABELLED)

    # The landlord concerned steps aside: its vote stops counting and it cannot vote again.
    services.recusal_record(actor=cw.secretary_user, item=item, member=cw.landlord_rep, reason="Bailleur concerné")
    tally = selectors.tally(item)
    assert (tally.counted, tally.recused, tally.counts[VoteChoice.NOT_KEPT]) == (2, 1, 0)
    with pytest.raises(ValidationError):
        services.vote_cast(actor=cw.landlord_rep_user, item=item, choice=VoteChoice.LABELLED)
    # A plain member cannot recuse someone else.
    with pytest.raises(PermissionDenied):
        services.recusal_record(actor=cw.world.commission, item=item, member=cw.chair, reason="x")


def test_quorum_refusal_saves_nothing(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.vote_all(item, VoteChoice.LABELLED)
    with pytest.raises(StepConflict):  # not open yet
        services.decision_record(actor=cw.chair_user, item=item, values=labelled(cw))
    cw.open_with(cw.chair, cw.secretary)
    with pytest.raises(ValidationError) as err:
        services.decision_record(actor=cw.chair_user, item=item, values=labelled(cw))
    assert err.value.code == "quorum"
    assert "Quorum non atteint" in err.value.messages[0]
    assert not CommitteeReview.objects.filter(case=case).exists()
    assert not SessionDecision.objects.exists()
    assert Case.objects.get(pk=case.pk).status == choices.CaseStatus.COMMITTEE


def test_recused_member_does_not_count_toward_quorum(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.landlord_rep)
    services.recusal_record(actor=cw.landlord_rep_user, item=item, member=cw.landlord_rep, reason="Bailleur concerné")
    assert selectors.quorum(cw.session).reached
    assert not selectors.quorum(cw.session, item).reached
    cw.vote_all(item, VoteChoice.LABELLED, [cw.chair, cw.secretary])
    with pytest.raises(ValidationError) as err:
        services.decision_record(actor=cw.chair_user, item=item, values=labelled(cw))
    assert err.value.code == "quorum"


def test_percent_quorum_rule(cw):
    cw.committee.quorum_rule = Committee.QuorumRule.PERCENT
    cw.committee.quorum_percent = 75
    cw.committee.save()
    cw.open_with(cw.chair, cw.secretary)
    q = selectors.quorum(cw.session)
    assert (q.required, q.present, q.reached) == (3, 2, False)


def test_majority_decision_moves_the_case_and_is_recorded_once(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.vote_all(item, VoteChoice.LABELLED, [cw.chair, cw.secretary, cw.member])
    services.vote_cast(actor=cw.landlord_rep_user, item=item, choice=VoteChoice.NOT_KEPT)  # absent: not counted
    cw.open_with(cw.chair, cw.secretary, cw.member)
    with pytest.raises(ValidationError) as err:
        services.decision_record(
            actor=cw.chair_user, item=item, values={"outcome": choices.CommitteeOutcome.NOT_KEPT, "reason": "x"}
        )
    assert err.value.code == "not_majority"
    with pytest.raises(ValidationError) as err:  # the review's own rules still apply
        services.decision_record(actor=cw.chair_user, item=item, values=LABELLED)
    assert "designated_landlord" in err.value.message_dict

    decision = services.decision_record(
        actor=cw.secretary_user, item=item, values=labelled(cw), other_landlords=[cw.world.other_landlord]
    )
    case.refresh_from_db()
    assert case.status == choices.CaseStatus.PROPOSAL
    assert case.designated_landlord == cw.world.landlord
    assert decision.review.outcome == choices.CommitteeOutcome.LABELLED
    assert decision.tally == {"counts": {"labelled": 3}, "counted": 3, "recused": 0, "not_counted": 1}
    assert list(decision.other_landlords.all()) == [cw.world.other_landlord]

    with pytest.raises(StepConflict) as err:
        services.decision_record(actor=cw.chair_user, item=item, values=labelled(cw))
    assert "déjà statué" in str(err.value)
    with pytest.raises(StepConflict):
        services.vote_cast(actor=cw.chair_user, item=item, choice=VoteChoice.ADJOURNED)
    with pytest.raises(ValidationError):
        decision.save()  # never edited in place
    assert CommitteeReview.objects.filter(case=case).count() == 1


def test_no_majority_and_chair_casting_vote(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member, cw.landlord_rep)
    services.vote_cast(actor=cw.secretary_user, item=item, choice=VoteChoice.LABELLED)
    services.vote_cast(actor=cw.world.commission, item=item, choice=VoteChoice.ADJOURNED)
    services.vote_cast(actor=cw.landlord_rep_user, item=item, choice=VoteChoice.NOT_KEPT)
    with pytest.raises(ValidationError) as err:
        services.decision_record(actor=cw.chair_user, item=item, values=labelled(cw))
    assert err.value.code == "no_majority"
    services.vote_cast(actor=cw.chair_user, item=item, choice=VoteChoice.ADJOURNED)  # 2-1-1: no strict majority
    assert selectors.tally(item).majority is None
    services.vote_cast(actor=cw.landlord_rep_user, item=item, choice=VoteChoice.LABELLED)  # 2-2: chair decides
    assert selectors.tally(item).majority == VoteChoice.ADJOURNED


def test_chair_mode_and_adjournment(cw):
    cw.committee.decision_mode = Committee.DecisionMode.CHAIR
    cw.committee.save()
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    values = {"outcome": choices.CommitteeOutcome.ADJOURNED, "missing_items": "Avis d'imposition 2025"}
    with pytest.raises(PermissionDenied):
        services.decision_record(actor=cw.secretary_user, item=item, values=values)
    with pytest.raises(ValidationError) as err:
        services.decision_record(actor=cw.chair_user, item=item, values=values)
    assert "adjourned_until" in err.value.message_dict
    with pytest.raises(ValidationError):
        services.decision_record(actor=cw.chair_user, item=item, values={**values, "adjourned_until": date(2026, 1, 1)})
    decision = services.decision_record(
        actor=cw.chair_user, item=item, values={**values, "adjourned_until": date(2026, 12, 1)}
    )
    assert decision.mode == Committee.DecisionMode.CHAIR
    assert Case.objects.get(pk=case.pk).status == choices.CaseStatus.DIAGNOSTIC


def test_step_claimed_by_a_member_gives_way_to_the_session(cw):
    from workflows.services import task_claim

    case = cw.case_at_committee()
    task_claim(actor=fresh(cw.world.commission), case=case, node_name="committee")
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    cw.vote_all(item, VoteChoice.LABELLED, [cw.chair, cw.secretary, cw.member])
    services.decision_record(actor=cw.chair_user, item=item, values=labelled(cw))
    assert Case.objects.get(pk=case.pk).status == choices.CaseStatus.PROPOSAL


def test_dalo_loss_review(cw):
    world = cw.world
    case = steps.label(world, cw.case_at_committee(is_dalo=True))
    case = steps.refuse(world, steps.allocate(world, steps.propose(world, case)))
    assert (case.status, case.dalo_loss_review_pending) == (choices.CaseStatus.COMMITTEE, True)
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    assert item.is_dalo_loss
    with pytest.raises(ValidationError):
        services.vote_cast(actor=cw.chair_user, item=item, choice=VoteChoice.LABELLED)
    cw.vote_all(item, VoteChoice.LOSS_CONFIRMED, [cw.chair, cw.secretary, cw.member])
    cw.open_with(cw.chair, cw.secretary, cw.member)
    services.decision_record(
        actor=cw.chair_user,
        item=item,
        values={
            "dalo_benefit_lost": True,
            "offer_adapted": True,
            "reason": "Offre adaptée refusée sans motif légitime",
            "outcome": "x",
        },
    )
    case.refresh_from_db()
    assert case.closure_reason == choices.ClosureReason.DALO_BENEFIT_LOST
    assert case.committee_reviews.last().kind == CommitteeReview.Kind.DALO_LOSS


# --- closing, immutability, amendments ----------------------------------------------------------------


def test_close_then_amend_with_reason(cw):
    case = cw.case_at_committee()
    pending = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    services.agenda_add(actor=cw.secretary_user, session=cw.session, case=pending)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    cw.vote_all(item, VoteChoice.LABELLED, [cw.chair, cw.secretary, cw.member])
    decision = services.decision_record(actor=cw.chair_user, item=item, values=labelled(cw))
    with pytest.raises(PermissionDenied):
        services.session_close(actor=cw.chair_user, session=cw.session)
    services.session_close(actor=cw.secretary_user, session=cw.session)
    cw.session.refresh_from_db()
    assert cw.session.status == "closed"
    assert Minutes.objects.get(session=cw.session).version == 1
    # The undecided case waits for the next session.
    assert Case.objects.get(pk=pending.pk).status == choices.CaseStatus.COMMITTEE
    assert selectors.eligible_cases(cw.session).filter(pk=pending.pk).exists()
    with pytest.raises(StepConflict):
        services.vote_cast(actor=cw.chair_user, item=item, choice=VoteChoice.ADJOURNED)
    with pytest.raises(StepConflict):
        services.session_open(actor=cw.secretary_user, session=cw.session)

    with pytest.raises(ValidationError):
        services.decision_amend(actor=cw.chair_user, decision=decision, values={"support_measure": "avdl"}, reason=" ")
    with pytest.raises(ValidationError):
        services.decision_amend(actor=cw.chair_user, decision=decision, values={"support_measure": "asll"}, reason="x")
    with pytest.raises(PermissionDenied):
        services.decision_amend(
            actor=cw.world.commission, decision=decision, values={"support_measure": "avdl"}, reason="Erreur"
        )
    amendment = services.decision_amend(
        actor=cw.chair_user,
        decision=decision,
        values={"support_measure": "avdl", "outcome": "not_kept"},  # the outcome is not amendable
        reason="Erreur de saisie : l'AVDL avait été retenu",
    )
    assert list(amendment.changes) == ["support_measure"]
    review = CommitteeReview.objects.get(pk=decision.review_id)
    assert (review.outcome, review.support_measure) == ("labelled", "avdl")
    last = review.history.first()
    assert last.history_user == cw.chair_user
    assert last.history_change_reason.startswith("Rectificatif : Erreur de saisie")
    assert Amendment.objects.count() == 1
    assert list(Minutes.objects.filter(session=cw.session).values_list("version", flat=True)) == [2, 1]
