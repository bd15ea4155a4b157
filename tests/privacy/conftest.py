import pytest
from django.db import transaction

from cases.audit import acting_as
from cases.models import HouseholdMember
from tests.audit.conftest import login, rehoused  # noqa: F401  (the closed case of a full life)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def closed_case(rehoused, world):  # noqa: F811
    """A rehoused (closed) case whose household changed contact once, with a member and violence facts."""
    household = rehoused.household
    with transaction.atomic(), acting_as(world.social_worker, "mise à jour"):
        household.phone = "0611223344"
        household.email = "ancien.courriel@example.org"
        household.save()
        household.phone = "0699887766"
        household.email = "menage.secret@example.org"
        household.save()
        HouseholdMember.objects.create(
            household=household,
            first_name="Camille",
            last_name="Enfantsecret",
            relationship="child",
            birth_date="2015-03-09",
        )
        diagnostic = rehoused.diagnostic
        diagnostic.violence_facts = "Violences de M. Auteurprésumé, ordonnance de protection."
        diagnostic.debts_description = "Dette de loyer chez Bailleursecret."
        diagnostic.save()
    rehoused.refresh_from_db()
    return rehoused


__all__ = ["login"]
