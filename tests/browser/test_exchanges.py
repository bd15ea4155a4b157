"""A territory administrator uploads a register export, reads the result page and finds the report
link; axe-core on the upload and result pages."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from cases.models import Household
from permissions.roles import Role
from tests.factories import LA_SEYNE, TOULON, member

from .support import check_a11y, expect
from .test_journeys import log_in

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE = Path(__file__).parents[1] / "exchanges" / "samples" / "registre.csv"


def test_territory_admin_uploads_a_file_and_reads_the_result(people):
    member(Role.TERRITORY_ADMIN, communes=[TOULON, LA_SEYNE], username="admin-imports")
    admin = people.open("admin")
    page = admin.page
    log_in(admin, "admin-imports")
    page.goto(reverse("exchanges:imports"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer des demandes")
    check_a11y(admin, "exchanges-imports")
    page.get_by_label("Fichier (CSV ou XLSX, 20 Mo au plus)").set_input_files(str(SAMPLE))
    page.get_by_label("Importer les lignes valides même si d'autres sont rejetées").check()
    page.get_by_role("button", name="Lancer l'import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Import n° \d+$"))
    expect(page.get_by_role("status")).to_have_text("Import enregistré.")
    expect(page.get_by_role("row", name="Créées 2")).to_be_visible()
    expect(page.get_by_role("cell", name="commune hors de votre territoire")).to_be_visible()
    expect(page.get_by_role("link", name="Télécharger le rapport complet (CSV)")).to_be_visible()
    check_a11y(admin, "exchanges-job")
    admin.step("result")
    assert Household.objects.count() == 2
