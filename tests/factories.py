"""Factories: one trait per role. Communes are the real reference communes loaded by migration."""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from cases import choices
from cases.models import Commune, Dwelling, Household, Organisation
from permissions.models import Membership
from permissions.roles import Role

TOULON = "83137"
LA_SEYNE = "83126"
NANTES = "44109"


def commune(insee=TOULON) -> Commune:
    return Commune.objects.get(pk=insee)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = choices.OrganisationKind.COMMUNE

    @factory.post_generation
    def covers(self, create, extracted, **kwargs):
        self.communes.set([commune(code) for code in (extracted or [TOULON, LA_SEYNE])])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Agent{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("motdepasse-test-1")


def member(role: str, organisation: Organisation | None = None, communes=(), **user_kwargs):
    """A user holding one active membership."""
    kind = {
        Role.LANDLORD_AGENT: choices.OrganisationKind.LANDLORD,
        Role.RESERVATAIRE_AGENT: choices.OrganisationKind.RESERVATAIRE,
        Role.COMMISSION_MEMBER: choices.OrganisationKind.STATE,
        Role.COMMISSION_CHAIR: choices.OrganisationKind.EPCI,
    }.get(role, choices.OrganisationKind.COMMUNE)
    organisation = organisation or OrganisationFactory(kind=kind)
    user = UserFactory(**user_kwargs)
    membership = Membership.objects.create(user=user, organisation=organisation, role=role)
    if communes:
        membership.communes.set([commune(code) for code in communes])
    return user


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    nud = factory.Sequence(lambda n: f"0832401{n % 100000:05d}{n % 100000:05d}A")
    applicant_last_name = factory.Sequence(lambda n: f"Fictif{n}")
    applicant_first_name = "Alex"
    applicant_birth_date = date(1985, 5, 17)
    phone = "0600000000"
    email = "menage@example.org"
    address = "12 rue Imaginaire"
    commune = factory.LazyFunction(lambda: commune(TOULON))
    housing_situation = choices.HousingSituation.HOSTED
    monthly_wages = Decimal("900")


class DwellingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dwelling

    landlord = factory.SubFactory(OrganisationFactory, kind=choices.OrganisationKind.LANDLORD)
    address = factory.Sequence(lambda n: f"{n} avenue de l'Exemple")
    commune = factory.LazyFunction(lambda: commune(TOULON))
    typology = "T3"
    surface_m2 = Decimal("64")
    floor = 2
    has_lift = True
    rent = Decimal("420")
    charges = Decimal("80")
    available_from = date(2026, 12, 1)
