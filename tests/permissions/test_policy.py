import logging
from datetime import date

import pytest
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from cases import choices
from permissions.models import Membership
from permissions.policy import Action, case_or_404, policy, roles_for_case, search_cases
from permissions.roles import Role
from tests.factories import NANTES, OrganisationFactory, UserFactory, commune, member
from tests.workflows import steps

pytestmark = pytest.mark.django_db


def visible(user):
    return set(policy.queryset_for(user).values_list("pk", flat=True))


@pytest.fixture
def other_org(world):
    org = OrganisationFactory(name="Association Nantes (test)", covers=[NANTES])
    return org


def test_social_worker_sees_own_organisation_and_cases_they_are_referent_of(world, other_org):
    own = world.flag()
    outsider = member(Role.SOCIAL_WORKER, other_org)
    foreign = world.flag()
    foreign.organisation = other_org
    foreign.save()
    assert visible(world.colleague) == {own.pk}  # same organisation, not referent
    assert visible(world.social_worker) == {own.pk, foreign.pk}  # referent of the foreign one
    assert visible(outsider) == {foreign.pk}


def test_supervisor_sees_all_cases_of_the_organisation_only(world, other_org):
    own = world.flag()
    foreign = world.flag()
    foreign.organisation = other_org
    foreign.save()
    assert visible(world.supervisor) == {own.pk}
    assert visible(member(Role.SUPERVISOR, other_org)) == {foreign.pk}


def test_commission_sees_cases_on_agenda_or_decided_in_its_territory(world):
    case = world.flag()
    assert case.pk not in visible(world.commission)  # still at diagnostic
    case = steps.diagnose(world, case)
    assert case.pk in visible(world.commission)  # waiting for the committee
    nantes_commission = member(Role.COMMISSION_MEMBER, communes=[NANTES])
    assert case.pk not in visible(nantes_commission)
    case = steps.label(world, case)
    assert case.status == choices.CaseStatus.PROPOSAL
    assert case.pk in visible(world.commission)  # decided in its territory


def test_commission_keeps_an_adjourned_case_back_at_diagnostic(world):
    from cases.models import Case

    case = steps.diagnose(world, world.flag())
    stale = Case.objects.get(pk=case.pk)  # read before the committee sat
    steps.decide(  # the committee adjourns (written procedure)
        world,
        case,
        {
            "outcome": choices.CommitteeOutcome.ADJOURNED,
            "missing_items": "Avis d'imposition",
            "adjourned_until": date(2099, 1, 15),
        },
    )
    case.refresh_from_db()
    assert case.status == choices.CaseStatus.DIAGNOSTIC and case.decided_in_committee
    assert case.pk in visible(world.commission)  # examined: the commission follows it
    stale.save()  # an instance read before the review must not clear the copy
    stale.refresh_from_db()
    assert stale.decided_in_committee
    assert case.pk in visible(world.commission)


def test_commission_scope_hook_is_a_setting(world, settings):
    case = steps.diagnose(world, world.flag())
    settings.PPGDID_COMMISSION_SCOPE = "tests.permissions.test_policy.nothing_scope"
    assert case.pk not in visible(world.commission)


def nothing_scope(user, grant):
    from django.db.models import Q

    return Q(pk__in=[])


def test_landlord_sees_designated_open_cases_and_cases_with_its_proposals(world):
    case = steps.diagnose(world, world.flag())
    assert case.pk not in visible(world.landlord_agent)
    case = steps.label(world, case)
    assert case.pk in visible(world.landlord_agent)
    assert case.pk not in visible(world.other_landlord_agent)
    unrelated = steps.label(world, steps.diagnose(world, world.flag()))
    from workflows import services

    services.case_close(actor=world.social_worker, case=unrelated, reason="withdrawn", comment="Désistement.")
    assert unrelated.pk not in visible(world.landlord_agent)  # designation ended with the closure
    case = steps.propose(world, case)
    assert case.proposals.get().landlord_id == world.landlord.pk  # copied from the dwelling
    case.designated_landlord = None
    case.save()
    assert case.pk in visible(world.landlord_agent)  # still carries its proposal
    assert case.pk not in visible(world.other_landlord_agent)


def test_reservataire_sees_cases_oriented_to_its_contingent(world):
    agent = member(Role.RESERVATAIRE_AGENT, world.reservataire)
    other = member(Role.RESERVATAIRE_AGENT)
    case = steps.diagnose(world, world.flag())
    assert case.pk not in visible(agent)
    case = steps.label(world, case)
    assert case.pk in visible(agent)
    assert case.pk not in visible(other)


def test_auditor_sees_everything(world, other_org):
    a = world.flag()
    b = world.flag()
    b.organisation = other_org
    b.save()
    assert visible(world.auditor) == {a.pk, b.pk}


def test_reception_sees_its_organisation_cases_only_while_at_diagnostic(world, other_org):
    reception = member(Role.RECEPTION, world.ccas)
    case = world.flag()
    foreign = world.flag()
    foreign.organisation = other_org
    foreign.save()
    assert visible(reception) == {case.pk}
    steps.diagnose(world, case)
    reception = type(reception).objects.get(pk=reception.pk)
    assert visible(reception) == set()


@pytest.mark.parametrize("role", [Role.TERRITORY_ADMIN, Role.SYSTEM_ADMIN])
def test_roles_without_case_scope_see_nothing(world, role):
    world.flag()
    assert visible(member(role, world.ccas, communes=["83137"])) == set()


def test_superuser_flag_alone_gives_no_case_and_inactive_membership_neither(world):
    world.flag()
    root = UserFactory(is_superuser=True, is_staff=True)
    assert visible(root) == set()
    Membership.objects.filter(user=world.colleague).update(is_active=False)
    world.colleague.refresh_from_db()
    assert visible(world.colleague) == set()


def test_case_list_is_one_query_whatever_the_number_of_memberships(world):
    for _ in range(5):
        world.flag()
    for role in (Role.SUPERVISOR, Role.LANDLORD_AGENT, Role.RESERVATAIRE_AGENT):
        Membership.objects.create(user=world.social_worker, organisation=OrganisationFactory(), role=role)
    user = type(world.social_worker).objects.get(pk=world.social_worker.pk)  # as a new request would
    with CaptureQueriesContext(connection) as ctx:
        rows = list(policy.queryset_for(user).select_related("household")[:50])
    assert len(rows) == 5
    assert len(ctx.captured_queries) == 2  # memberships, then the list


def test_roles_for_case_uses_only_the_memberships_that_reach_it(world):
    # One person: landlord agent at Bailleur Un, social worker at another association.
    person = world.landlord_agent
    association = OrganisationFactory(name="Association (test)")
    Membership.objects.create(user=person, organisation=association, role=Role.SOCIAL_WORKER)
    case = steps.label(world, steps.diagnose(world, world.flag()))
    assert roles_for_case(person, case) == {Role.LANDLORD_AGENT}
    assert policy.can(person, Action.VIEW, case)
    assert not policy.can(person, Action.CHANGE, case)  # not as a social worker of this case


def test_out_of_scope_case_is_404_and_denial_is_logged_without_personal_data(world, caplog):
    case = world.flag()
    request = RequestFactory().get("/")
    request.user = world.landlord_agent
    request.request_id = "req-12345678"
    with caplog.at_level(logging.WARNING, logger="ppgdid.access"), pytest.raises(Http404):
        case_or_404(request, case.pk)
    record = caplog.records[-1].getMessage()
    assert f"user_id={world.landlord_agent.pk}" in record
    assert f"object=case:{case.pk}" in record
    assert "request_id=req-12345678" in record
    assert case.household.applicant_last_name not in record
    # A missing case and a foreign case answer the same.
    with pytest.raises(Http404):
        case_or_404(request, 999999)


def test_search_by_name_never_finds_a_protected_case_outside_its_organisation(world):
    hidden = world.flag(world.household(applicant_last_name="Discret"), is_protected=True)
    hidden = steps.label(world, steps.diagnose(world, hidden))
    open_case = steps.label(world, steps.diagnose(world, world.flag(world.household(applicant_last_name="Discrete"))))
    assert set(search_cases(world.colleague, "discret")) == {hidden, open_case}
    assert set(search_cases(world.landlord_agent, "discret")) == {open_case}
    assert set(search_cases(world.landlord_agent, hidden.household.nud)) == {hidden}
    assert set(search_cases(world.landlord_agent, hidden.reference)) == {hidden}
    assert set(search_cases(world.other_landlord_agent, hidden.household.nud)) == set()


def test_protected_and_auditor_reads_are_logged(world, caplog):
    case = world.flag(is_protected=True)
    request = RequestFactory().get("/")
    request.user = world.colleague
    with caplog.at_level(logging.INFO, logger="ppgdid.access.read"):
        case_or_404(request, case.pk, section="fiche")
    assert any(f"case_id={case.pk} section=fiche" in r.getMessage() for r in caplog.records)
    caplog.clear()
    plain = world.flag()
    request.user = world.auditor
    with caplog.at_level(logging.INFO, logger="ppgdid.access.read"):
        case_or_404(request, plain.pk)
    assert any(f"user_id={world.auditor.pk} case_id={plain.pk}" in r.getMessage() for r in caplog.records)
    caplog.clear()
    request.user = world.colleague
    with caplog.at_level(logging.INFO, logger="ppgdid.access.read"):
        case_or_404(request, plain.pk)
    assert not caplog.records


def test_household_without_commune_reaches_no_commission(world):
    household = world.household(commune=None)
    case = steps.diagnose(world, world.flag(household))
    assert case.pk not in visible(world.commission)
    assert commune("83137")  # the reference data are loaded


def test_users_who_can_asks_the_database_twice_whatever_the_number_of_users(world, other_org):
    case = steps.diagnose(world, world.flag())
    outsiders = [member(Role.SOCIAL_WORKER, other_org) for _ in range(6)]
    insiders = [world.social_worker, world.supervisor, world.colleague, world.commission]
    users = [*outsiders, *insiders]
    for user in users:
        user.refresh_from_db()  # no membership cache
    with CaptureQueriesContext(connection) as ctx:
        allowed = policy.users_who_can(users, Action.VIEW, case)
    assert len(ctx.captured_queries) == 2
    assert {u.pk for u in allowed} == {u.pk for u in insiders}
    assert all(policy.can(u, Action.VIEW, case) == (u in insiders) for u in users)


def test_users_who_can_asks_one_flag_per_scope_colleagues_share(world):
    case = steps.label(world, steps.diagnose(world, world.flag()))  # designated to world.landlord
    agents = [world.landlord_agent, *(member(Role.LANDLORD_AGENT, world.landlord) for _ in range(5))]
    others = [world.other_landlord_agent, member(Role.LANDLORD_AGENT, world.other_landlord)]
    users = [*agents, *others]
    for user in users:
        user.refresh_from_db()
    with CaptureQueriesContext(connection) as ctx:
        allowed = policy.users_who_can(users, Action.VIEW, case)
    assert {u.pk for u in allowed} == {u.pk for u in agents}
    flags_query = ctx.captured_queries[-1]["sql"]
    assert flags_query.count('"can_') == 2  # one per landlord, not one per agent


def test_answers_from_the_case_page_memberships_equal_the_query_answers(world, other_org):
    from cases.models import Case

    case = steps.label(world, steps.diagnose(world, world.flag()))
    request = RequestFactory().get("/")
    users = [
        world.social_worker,
        world.colleague,
        world.supervisor,
        world.commission,
        world.landlord_agent,
        member(Role.AUDITOR),
        member(Role.COMMISSION_CHAIR, communes=[case.household.commune_id]),
    ]
    actions = [Action.VIEW, Action.CHANGE, Action.CLOSE, Action.PROTECT, Action.SHARE, Action.BREAK_GLASS]
    for user in users:
        request.user = user
        page_case = case_or_404(request, case.pk)
        with CaptureQueriesContext(connection) as ctx:
            from_page = {action: policy.can(user, action, page_case) for action in actions}
        assert len(ctx.captured_queries) == 0, user
        fresh = Case.objects.get(pk=case.pk)
        assert from_page == {action: policy.can(user, action, fresh) for action in actions}, user
    page_case.save()  # a write drops the memberships read with the case
    with CaptureQueriesContext(connection) as ctx:
        policy.can(user, Action.VIEW, page_case)
    assert len(ctx.captured_queries) == 1


def _not_allocated(world, case):
    from datetime import date

    from workflows import services

    return services.caleol_record(
        actor=world.landlord_agent,
        case=case,
        values={
            "decision": choices.CaleolDecisionType.NOT_ALLOCATED,
            "non_allocation_reason": choices.NonAllocationReason.UNSUITABLE_SIZE,
            "decided_on": date(2026, 11, 10),
        },
    )


def _refused(world, case):
    return steps.refuse(world, steps.allocate(world, case))


def _withdrawn_round(world, case):
    proposal = case.proposals.get()
    proposal.offer.status = choices.OfferStatus.WITHDRAWN
    proposal.offer.save()
    return case


@pytest.mark.parametrize(
    "end", [_refused, _not_allocated, _withdrawn_round], ids=["refused", "not_allocated", "withdrawn"]
)
def test_landlord_loses_a_case_once_its_proposal_ended_and_another_landlord_goes_on(world, end):
    """Issue 15: a proposal that ended no longer opens the case to its landlord."""
    from permissions import services as access_services
    from permissions.grants import sync_case_grants

    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    case = end(world, case)
    assert case.pk in visible(world.landlord_agent)  # still the designated landlord
    access_services.designation_end(actor=world.social_worker, case=case, reason="Le bailleur se retire")
    case.refresh_from_db()
    assert case.pk not in visible(world.landlord_agent)
    case.designated_landlord = world.other_landlord
    case.save()
    sync_case_grants(case)
    assert case.pk not in visible(world.landlord_agent)
    assert case.pk in visible(world.other_landlord_agent)
    assert case.pk in visible(world.social_worker) and case.pk in visible(world.commission)


def test_closing_ends_partner_access_but_not_the_referent_organisation(world):
    """Issue 15: once closed, partners and commission members of other organisations lose the case."""
    reservataire = member(Role.RESERVATAIRE_AGENT, world.reservataire)
    own_commission = member(Role.COMMISSION_MEMBER, world.ccas, communes=["83137"])
    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag(is_protected=True))))
    partners = [world.landlord_agent, reservataire, world.commission]
    keepers = [world.social_worker, world.supervisor, world.auditor, own_commission]
    assert all(case.pk in visible(u) for u in partners + keepers)
    case = steps.sign(world, steps.accept(world, steps.allocate(world, case)))
    assert case.closure_reason == choices.ClosureReason.REHOUSED_SOCIAL
    assert [u.username for u in partners if case.pk in visible(u)] == []
    assert all(case.pk in visible(u) for u in keepers)
