"""An anonymised case leaves nothing of its household in the import bookkeeping (exchanges/signals.py)."""

import pytest

from cases.models import Household
from exchanges.models import ImportedApplication
from privacy import services

from .test_applications import NUD_1, NUD_2, SAMPLES, run

pytestmark = pytest.mark.django_db


def test_anonymisation_deletes_the_households_imported_values(world):
    run(SAMPLES / "registre.csv")
    household = Household.objects.get(nud=NUD_1)
    assert household.applicant_last_name in str(ImportedApplication.objects.get(nud=NUD_1).values)  # can fail
    case = world.flag(household)

    services.anonymise_cases([case.pk], "identity", "conservation identity 24 mois (83)")

    assert not ImportedApplication.objects.filter(nud=NUD_1).exists()
    assert ImportedApplication.objects.filter(nud=NUD_2).exists()  # other households keep theirs
