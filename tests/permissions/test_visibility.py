from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.models import Diagnostic, Household
from permissions import services
from permissions.models import BreakGlassAccess, Membership
from permissions.presenters import MASKED, VisibleCase, visible_cases
from permissions.roles import Role
from permissions.visibility import (
    FIELD_CATEGORIES,
    MATRIX,
    Category,
    can_see_field,
    case_access,
    visible_fields,
)
from tests.factories import LA_SEYNE, OrganisationFactory, commune, member
from tests.workflows import steps

pytestmark = pytest.mark.django_db


def labelled(world, **kwargs):
    case = world.flag(**kwargs)
    case = steps.diagnose(world, case)
    diagnostic = case.diagnostic
    diagnostic.violence_facts = "Violences du conjoint, ordonnance de protection."
    diagnostic.debts_description = "Plan de surendettement Banque de France."
    diagnostic.debts_amount = 3200
    diagnostic.entitlements = "Droits CAF à rouvrir."
    diagnostic.save()
    diagnostic.areas_to_avoid.set([commune(LA_SEYNE)])
    return steps.label(world, case)


def test_every_field_of_household_case_and_diagnostic_has_a_category():
    from cases.models import Case, CaseCriterion, HouseholdMember

    parents = {"id", "household", "case", "created_at"}  # keys and bookkeeping, never displayed
    for model in (Household, HouseholdMember, Case, CaseCriterion, Diagnostic):
        label = model._meta.label_lower
        fields = {f.name for f in model._meta.get_fields() if f.concrete or f.many_to_many} - parents
        if model is Case:
            fields.add("created_at")  # the flagging date is shown
        missing = fields - set(FIELD_CATEGORIES[label])
        assert not missing, f"{label}: choose a category for {sorted(missing)}"


def test_matrix_follows_the_default_of_shared_visibility_md():
    landlord = MATRIX[Role.LANDLORD_AGENT]
    assert landlord.get(Category.NARRATIVE) is None
    assert landlord.get(Category.HEALTH) is None
    assert landlord.get(Category.VIOLENCE) is None
    assert landlord.get(Category.DEBTS) is None
    assert landlord.get(Category.ADDRESS) is None
    assert landlord[Category.CRITERIA] == "S"
    assert MATRIX[Role.COMMISSION_MEMBER].get(Category.CONTACT) is None
    assert MATRIX[Role.TERRITORY_ADMIN] == {}


def test_landlord_sees_only_what_it_needs(world):
    case = labelled(world)
    view = VisibleCase(world.landlord_agent, case)
    household = {f.name for f in view.section("household")}
    assert {"applicant_last_name", "phone", "monthly_wages"} <= household
    assert "address" not in household and "commune" not in household
    diagnostic = {f.name: f.value for f in view.section("diagnostic")}
    for hidden in ("social_narrative", "health_autonomy", "violence_facts", "debts_description", "committee_synthesis"):
        assert hidden not in diagnostic
    assert diagnostic["areas_to_avoid"] == [str(commune(LA_SEYNE))]  # "not suitable", never why
    assert "evidence_note" not in {f.name for row in view.rows("criteria") for f in row}


def test_commission_sees_synthesis_and_commune_only(world):
    case = labelled(world)
    view = VisibleCase(world.commission, case)
    household = {f.name for f in view.section("household")}
    assert "commune" in household and "address" not in household and "phone" not in household
    diagnostic = {f.name for f in view.section("diagnostic")}
    assert {"committee_synthesis", "debts_amount", "monthly_resources"} <= diagnostic
    assert not {"debts_description", "entitlements", "social_narrative", "health_autonomy"} & diagnostic


def test_visibility_follows_the_role_that_reaches_the_case(world):
    person = world.landlord_agent
    Membership.objects.create(user=person, organisation=OrganisationFactory(), role=Role.SOCIAL_WORKER)
    case = labelled(world)
    access = case_access(person, case)
    assert access.roles == {Role.LANDLORD_AGENT}
    assert not can_see_field(access, "cases.diagnostic", "social_narrative")


def test_protected_case_masks_address_and_contact_except_for_referent_and_supervisor(world):
    case = labelled(world, is_protected=True)
    for user in (world.social_worker, world.supervisor):
        view = VisibleCase(user, case)
        assert view.value("household", "address") == "12 rue Imaginaire"
    for user in (world.colleague, world.auditor, world.landlord_agent):
        view = VisibleCase(user, case)
        assert view.value("household", "address", "absent") in (str(MASKED), "absent")
        assert view.value("household", "phone") == str(MASKED)
        assert "0600000000" not in str(view.as_dict())
        assert "12 rue Imaginaire" not in str(view.as_dict())


def test_break_glass_opens_masked_data_for_a_limited_time_and_notifies(world, caplog):
    case = labelled(world, is_protected=True)
    with pytest.raises(ValidationError):
        services.break_glass_open(actor=world.auditor, case=case, reason="")
    with pytest.raises(PermissionDenied):
        services.break_glass_open(actor=world.landlord_agent, case=case, reason="Vérification demandée")
    with pytest.raises(PermissionDenied):
        services.break_glass_open(actor=world.auditor, case=world.flag(), reason="Pas protégé du tout")
    access = services.break_glass_open(actor=world.auditor, case=case, reason="Contrôle CNIL du 12/11")
    assert VisibleCase(world.auditor, case).value("household", "address") == "12 rue Imaginaire"
    assert access.history.first().history_user == world.auditor
    from audit.models import AccessLog

    assert AccessLog.objects.get(case=case, user=world.auditor).reason == "Contrôle CNIL du 12/11"
    from notifications.models import Notification

    told = set(Notification.objects.filter(template="break_glass").values_list("recipient__username", flat=True))
    assert world.social_worker.username in told  # the referent
    assert world.auditor.username not in told
    assert any("break glass" in r.getMessage() for r in caplog.records)
    BreakGlassAccess.objects.filter(pk=access.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert VisibleCase(world.auditor, case).value("household", "address") == str(MASKED)


def test_sharing_one_category_with_one_organisation_then_revoking(world):
    case = labelled(world)
    assert VisibleCase(world.landlord_agent, case).value("diagnostic", "debts_description") is None
    with pytest.raises(PermissionDenied):
        services.case_share_create(
            actor=world.landlord_agent,
            case=case,
            category=Category.DEBTS,
            organisation=world.landlord,
            reason="Je me le partage",
            ends_on=timezone.localdate(),
        )
    share = services.case_share_create(
        actor=world.social_worker,
        case=case,
        category=Category.DEBTS,
        organisation=world.landlord,
        reason="Le bailleur instruit le plan d'apurement",
        ends_on=timezone.localdate() + timedelta(days=30),
    )
    view = VisibleCase(world.landlord_agent, case)
    assert view.value("diagnostic", "debts_description") == "Plan de surendettement Banque de France."
    assert view.value("diagnostic", "violence_facts") is None  # only the shared category
    assert VisibleCase(world.other_landlord_agent, case).access.roles == frozenset()
    services.case_share_revoke(actor=world.colleague, share=share, reason="Plus nécessaire")
    assert VisibleCase(world.landlord_agent, case).value("diagnostic", "debts_description") is None
    assert share.history.count() == 2


def test_protected_categories_cannot_be_shared_on_a_protected_case(world):
    case = labelled(world, is_protected=True)
    with pytest.raises(ValidationError) as error:
        services.case_share_create(
            actor=world.social_worker,
            case=case,
            category=Category.ADDRESS,
            organisation=world.landlord,
            reason="Pour la visite",
            ends_on=timezone.localdate(),
        )
    assert "category" in error.value.message_dict


def test_expired_share_is_over(world):
    case = labelled(world)
    share = services.case_share_create(
        actor=world.social_worker,
        case=case,
        category=Category.HEALTH,
        organisation=world.landlord,
        reason="Adaptation du logement",
        ends_on=timezone.localdate(),
    )
    assert VisibleCase(world.landlord_agent, case).value("diagnostic", "health_autonomy")
    share.ends_on = timezone.localdate() - timedelta(days=1)
    share.save()
    assert VisibleCase(world.landlord_agent, case).value("diagnostic", "health_autonomy") is None


def test_visible_cases_for_exports_match_one_by_one_access(world):
    cases = [labelled(world), labelled(world, is_protected=True)]
    from cases.models import Case

    for user in (world.landlord_agent, world.social_worker, world.colleague, world.auditor, world.commission):
        bulk = {v.case.pk: v.as_dict() for v in visible_cases(user, Case.objects.filter(pk__in=[c.pk for c in cases]))}
        for case in cases:
            assert bulk[case.pk] == VisibleCase(user, case).as_dict()


def test_protection_flag_is_set_by_the_social_worker_with_a_reason(world):
    case = world.flag()
    with pytest.raises(PermissionDenied):
        services.case_protect(actor=world.landlord_agent, case=case, is_protected=True, reason="Demande du ménage")
    case = services.case_protect(actor=world.colleague, case=case, is_protected=True, reason="Demande du ménage")
    assert case.is_protected
    assert case.history.first().history_change_reason == "Demande du ménage"


def test_role_only_helpers_still_answer(world):
    assert "address" not in visible_fields({Role.LANDLORD_AGENT}, Household)
    assert "address" in visible_fields({Role.SOCIAL_WORKER}, Household)
    assert "address" not in visible_fields({Role.SOCIAL_WORKER}, Household, protected=True)
    assert member(Role.AUDITOR)
