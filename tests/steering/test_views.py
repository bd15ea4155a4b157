"""The steering pages over HTTP: who may see them, the exports' content, bad input, the lease receiver."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from cases import choices
from cases.formats import euros
from permissions.roles import Role
from steering.models import Allocation, StatCount
from tests.factories import TOULON, member
from tests.workflows import steps

URLS = ["steering:dashboard", "steering:quotas", "steering:export_xlsx", "steering:report"]
QUERY = "?debut=2026-01&fin=2026-12"


def get(client, user, name, query=QUERY):
    client.force_login(user)
    return client.get(reverse(name) + query)


@pytest.mark.parametrize("name", URLS)
def test_roles_without_steering_get_404_and_the_denial_is_logged(world, client, caplog, name):
    for user in (
        world.social_worker,
        world.supervisor,
        world.auditor,
        member(Role.RECEPTION, world.ccas, username="accueil"),
        member(Role.SYSTEM_ADMIN, world.state, username="sysadmin"),
    ):
        caplog.clear()
        assert get(client, user, name).status_code == 404
        assert any("access denied" in r.getMessage() and "steering" in r.getMessage() for r in caplog.records)


def test_anonymous_goes_to_the_login_page(client):
    response = client.get(reverse("steering:dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_dashboard_page_shows_charts_tables_and_masks_small_cells(territory, client):
    response = get(client, territory.admin, "steering:dashboard")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg") == 5 and 'role="img"' in html
    assert 'id="t-stock_etape"' in html and "<caption>Dossiers ouverts par étape</caption>" in html
    assert '<span class="masked">moins de 5</span>' in html
    assert "Pilotage</a>" in html  # the navigation link


def test_quota_page(territory, client):
    html = get(client, territory.admin, "steering:quotas").content.decode()
    assert "Objectifs d&#x27;attribution 2026" in html or "Objectifs d'attribution 2026" in html
    assert euros(10000) in html  # the first-quartile threshold, in the French format of cases/formats.py
    assert "manque 2" in html  # the territory's first-quartile target outside QPV


def test_landlord_page_never_names_the_other_landlord(territory, client):
    html = get(client, territory.world.landlord_agent, "steering:dashboard").content.decode()
    assert territory.world.landlord.name in html
    assert territory.world.other_landlord.name not in html
    html = get(client, territory.world.landlord_agent, "steering:quotas").content.decode()
    assert territory.world.other_landlord.name not in html


def test_csv_export_of_one_table(territory, client):
    response = get(client, territory.admin, "steering:export_csv", QUERY + "&tableau=stock_etape")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Étape", "Dossiers"]
    assert ["Diagnostic social en cours", "6"] in rows and ["En attente de commission", "moins de 5"] in rows


def test_unknown_table_is_a_french_400(territory, client):
    response = get(client, territory.admin, "steering:export_csv", QUERY + "&tableau=inconnu")
    assert response.status_code == 400 and "Tableau inconnu" in response.content.decode()


def test_xlsx_export_has_every_table(territory, client):
    response = get(client, territory.admin, "steering:export_xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert {"stock_etape", "flux_mensuels", "delais_etapes", "quota_priorite", "quota_mixite"} <= set(book.sheetnames)
    sheet = book["stock_etape"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert ["Diagnostic social en cours", 6] in values and ["En attente de commission", "moins de 5"] in values


def test_yearly_report_pdf(territory, client):
    response = get(client, territory.admin, "steering:report", "?annee=2026")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Rapport annuel" in text and "2026" in text
    assert "L441-1" in text and "moins de 5" in text and "Refus par motif" in text


def test_bad_filters_answer_200_with_french_messages(territory, client):
    response = get(client, territory.admin, "steering:dashboard", "?debut=abc&fin=2026-99&reservataire=x")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Filtres non appliqués" in html and "AAAA-MM" in html


def test_posting_is_not_allowed(territory, client):
    client.force_login(territory.admin)
    assert client.post(reverse("steering:dashboard")).status_code == 405


def test_lease_signed_through_the_services_records_the_allocation_and_refreshes(
    world, django_capture_on_commit_callbacks
):
    case = world.flag()
    steps.diagnose(world, case)
    case = steps.label(world, case)
    steps.propose(world, case)
    steps.allocate(world, case)
    steps.accept(world, case)
    with django_capture_on_commit_callbacks(execute=True):
        steps.sign(world, case)
    allocation = Allocation.objects.get(case=case)
    assert allocation.lease_signed_on == date(2026, 11, 20)
    # The contingent is the dwelling's (none: the landlord's own stock), not the case's target réservataire.
    assert allocation.reservataire is None and allocation.landlord == world.landlord
    assert allocation.quartile is None  # no first-quartile threshold set for the territory
    rehoused = StatCount.objects.filter(metric="flow", dim="event", value="rehoused", commune=TOULON)
    assert sum(rehoused.values_list("n", flat=True)) == 1
    assert StatCount.objects.filter(metric="alloc", landlord_id=world.landlord.pk, reservataire_id=0, n=1).exists()
    case.refresh_from_db()
    assert case.status == choices.CaseStatus.CLOSED
