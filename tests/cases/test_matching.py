"""The match check warns before a proposal is saved; the landlord may go on with a stated reason."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cases import matching
from cases.models import HouseholdMember, Proposal
from cases.territory import DepartementSettings
from tests.factories import LA_SEYNE, DwellingFactory, commune
from tests.workflows import steps
from workflows import services

pytestmark = pytest.mark.django_db


def family(world, *, children=2, resources=Decimal("2400"), **diagnostic):
    """A labelled case: applicant, partner and children, who fit a T3 at 500 €/month by default."""
    case = world.flag()
    household = case.household
    HouseholdMember.objects.create(
        household=household, first_name="Sam", last_name="X", relationship="spouse", birth_date=date(1986, 1, 1)
    )
    for i in range(children):
        HouseholdMember.objects.create(
            household=household, first_name=f"E{i}", last_name="X", relationship="child", birth_date=date(2018, 1, 1)
        )
    values = steps.DIAGNOSTIC | {"monthly_resources": resources} | diagnostic
    areas = values.pop("areas_to_avoid", ())
    services.diagnostic_complete(actor=world.social_worker, case=case, values=values, areas_to_avoid=areas)
    return steps.label(world, case)


def codes(case, dwelling, apl=0):
    return [w.code for w in matching.check(case, dwelling, apl)]


def test_a_fitting_dwelling_raises_nothing(world):
    assert codes(family(world), world.dwelling) == []


def test_typology_against_household_size(world):
    case = family(world, children=4)  # 6 persons in a T3
    assert codes(case, world.dwelling) == ["typology"]
    messages = [w.message for w in matching.check(case, world.dwelling)]
    assert "6 personne(s)" in messages[0]
    # Size fits but the diagnostic asked for something else.
    assert codes(family(world), world.dwelling2) == ["typology"]


def test_accessibility_and_floor_without_lift(world):
    case = family(world, accessibility_need=True, max_floor_without_lift=1)
    no_lift = DwellingFactory(landlord=world.landlord, floor=3, has_lift=False)
    assert codes(case, no_lift) == ["accessibility", "floor"]
    ground = DwellingFactory(landlord=world.landlord, floor=0, has_lift=False, wheelchair_accessible=True)
    assert codes(case, ground) == []


def test_effort_rate_and_reste_a_vivre_use_local_thresholds(world):
    case = family(world, resources=Decimal("1300"))
    # 500 / 1300 = 38.5 % > 35 %; rest (1300 - 500) / 2.1 UC / 30 = 12.70 € > 10 €.
    assert codes(case, world.dwelling) == ["effort_rate"]
    assert codes(case, world.dwelling, apl=100) == []  # the estimated APL comes off the housing cost
    DepartementSettings.objects.create(code="83", max_effort_rate=Decimal("40"), min_daily_rest_per_uc=Decimal("13"))
    assert codes(case, world.dwelling) == ["reste_a_vivre"]
    # No resources in the diagnostic: the household's declared income is used, else nothing to compute.
    unknown = family(world, resources=Decimal("0"))
    assert codes(unknown, world.dwelling) == ["effort_rate", "reste_a_vivre"]  # 900 € of wages
    unknown.household.monthly_wages = 0
    unknown.household.save()
    assert codes(unknown, world.dwelling) == ["income_unknown"]


def test_area_to_avoid_warns_without_revealing_why(world):
    case = family(world, areas_to_avoid=[commune(LA_SEYNE)], violence_facts="Ex-conjoint violent à La Seyne.")
    dwelling = DwellingFactory(landlord=world.landlord, commune=commune(LA_SEYNE))
    warnings = matching.check(case, dwelling)
    assert [w.message for w in warnings] == ["Commune non adaptée pour ce ménage."]


def test_proposal_needs_a_reason_to_go_on_and_records_it(world):
    case = family(world, children=4)
    with pytest.raises(ValidationError) as error:
        services.proposal_make(actor=world.landlord_agent, case=case, values={"dwelling": world.dwelling})
    messages = error.value.message_dict["match_override_reason"]
    assert "6 personne(s)" in messages[0] and "indiquez pourquoi" in messages[-1]
    assert not Proposal.objects.exists()
    services.proposal_make(
        actor=world.landlord_agent,
        case=case,
        values={"dwelling": world.dwelling, "match_override_reason": "Le ménage préfère ce T3 près de l'école."},
    )
    proposal = Proposal.objects.get()
    assert proposal.match_warnings[0]["code"] == "typology"
    assert proposal.match_override_reason.startswith("Le ménage")
