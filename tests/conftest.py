from datetime import date

import pytest

from cases import choices
from permissions.roles import Role
from tests.factories import TOULON, DwellingFactory, HouseholdFactory, OrganisationFactory, member


class World:
    """A small territory: a CCAS, a State service on the committee, two landlords, a réservataire."""

    def __init__(self):
        self.ccas = OrganisationFactory(name="CCAS de Toulon (test)", kind=choices.OrganisationKind.COMMUNE)
        self.state = OrganisationFactory(name="DDETS du Var (test)", kind=choices.OrganisationKind.STATE)
        self.landlord = OrganisationFactory(name="Bailleur Un (test)", kind=choices.OrganisationKind.LANDLORD)
        self.other_landlord = OrganisationFactory(name="Bailleur Deux (test)", kind=choices.OrganisationKind.LANDLORD)
        self.reservataire = OrganisationFactory(
            name="Action Logement (test)", kind=choices.OrganisationKind.RESERVATAIRE
        )
        self.social_worker = member(Role.SOCIAL_WORKER, self.ccas, username="ts")
        self.colleague = member(Role.SOCIAL_WORKER, self.ccas, username="ts2")
        self.supervisor = member(Role.SUPERVISOR, self.ccas, username="encadrant")
        self.commission = member(Role.COMMISSION_MEMBER, self.state, communes=[TOULON], username="commission")
        self.landlord_agent = member(Role.LANDLORD_AGENT, self.landlord, username="bailleur")
        self.other_landlord_agent = member(Role.LANDLORD_AGENT, self.other_landlord, username="bailleur2")
        self.auditor = member(Role.AUDITOR, self.state, username="auditeur")
        self.dwelling = DwellingFactory(landlord=self.landlord)
        self.dwelling2 = DwellingFactory(landlord=self.landlord, typology="T2")

    def household(self, **kwargs):
        return HouseholdFactory(**kwargs)

    def flag(self, household=None, *, is_dalo=False, criteria=None, **kwargs):
        from workflows.services import case_flag

        return case_flag(
            actor=self.social_worker,
            household=household or self.household(),
            organisation=self.ccas,
            criteria=criteria or [{"code": "i", "source": "social_worker", "evidence_note": "Hébergé chez un ami"}],
            is_dalo=is_dalo,
            comed_decision_date=date(2026, 9, 1) if is_dalo else None,
            **kwargs,
        )


@pytest.fixture
def world(db):
    from cases.models import Commune
    from cases.reference import load_communes

    # Transactional tests flush every table, the migration-loaded communes included: reload them.
    if not Commune.objects.exists():
        load_communes(Commune)
    return World()


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttling counts live in the cache (a process-wide one in tests): each test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
