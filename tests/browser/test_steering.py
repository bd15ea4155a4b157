"""Journey: a territory administrator filters the steering dashboard and downloads the XLSX and the PDF report."""

import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from cases import choices
from permissions.roles import Role
from steering import aggregates
from tests.factories import LA_SEYNE, TOULON, member
from tests.steering.builders import open_case, rehoused_case

from .support import check_a11y, expect
from .test_journeys import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_territory_admin_filters_the_dashboard_and_downloads_the_exports(world, people, tmp_path):
    for _ in range(6):
        open_case(world, status=choices.CaseStatus.DIAGNOSTIC)
    for day in range(1, 6):
        rehoused_case(world, landlord=world.landlord, reservataire=world.reservataire, lease=date(2026, 3, day))
    aggregates.refresh_dirty()
    member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON, LA_SEYNE], username="admin-territoire")

    session = people.open("admin-territoire")
    page = session.page
    log_in(session, "admin-territoire")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Pilotage").click()
    expect(page.get_by_role("heading", level=1, name="Pilotage du territoire")).to_be_visible()
    check_a11y(session, "steering:dashboard")

    page.get_by_label("Du mois").fill("2026-01")
    page.get_by_label("Au mois").fill("2026-12")
    page.get_by_label("Commune").select_option(label="Toulon")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r".*debut=2026-01.*commune=83137.*"))
    session.step("filtered")
    stock = page.locator("#t-stock_etape")
    expect(stock.get_by_role("row", name="Diagnostic social en cours 6")).to_be_visible()
    expect(page.locator("#t-relogements_reservataire")).to_contain_text("Action Logement (test)")
    check_a11y(session, "steering:dashboard-filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Tous les tableaux (XLSX)").click()
    path = tmp_path / "pilotage.xlsx"
    download_info.value.save_as(path)
    book = load_workbook(path)
    assert "stock_etape" in book.sheetnames and "quota_priorite" in book.sheetnames
    values = [[c.value for c in row] for row in book["stock_etape"].iter_rows(min_row=3)]
    assert ["Diagnostic social en cours", 6] in values

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Rapport annuel 2026 (PDF)").click()
    pdf = PdfReader(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "Rapport annuel" in text and "L441-1" in text

    page.get_by_role("link", name="Objectifs d'attribution").click()
    expect(page.get_by_role("heading", level=1, name="Objectifs d'attribution 2026")).to_be_visible()
    assert "commune=83137" in page.url
    check_a11y(session, "steering:quotas")
    assert reverse("steering:quotas") in page.url
