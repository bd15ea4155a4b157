"""Worklists: filters as codes, the search behind a token, visible columns, exports, query budgets."""

import csv
import io
import logging
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import HouseholdFactory
from tests.workflows import steps

pytestmark = pytest.mark.django_db

FILTERS = [
    "",
    "etape=diagnostic",
    "etat=ouverts",
    "echeance=en-retard",
    "echeance=semaine",
    "commune=83137",
    "commune=Toulon",
    "critere=i",
    "dalo=oui",
    "dalo30=oui",
    "protege=non",
    "referent=moi",
    "organisation=mienne",
    "tri=echeance",
    "tri=attente",
    "tri=dalo",
    "etape=committee&echeance=en-retard&tri=echeance&dalo=oui&commune=Toulon",
]


@pytest.fixture
def cases(world):
    made = [world.flag(HouseholdFactory(applicant_last_name=f"Martin{i}")) for i in range(3)]
    made.append(world.flag(HouseholdFactory(applicant_last_name="Durand"), is_dalo=True))
    steps.diagnose(world, made[0])
    return made


def rows_of(response):
    return response.content.decode()


@pytest.mark.parametrize("query", FILTERS)
def test_case_list_stays_within_budget_whatever_the_filters(client, world, cases, query, django_assert_max_num_queries):
    client.force_login(world.social_worker)
    with django_assert_max_num_queries(12):
        response = client.get(f"{reverse('cases:list')}?{query}")
    assert response.status_code == 200


def test_filters_narrow_the_case_list(client, world, cases):
    client.force_login(world.social_worker)
    page = rows_of(client.get(reverse("cases:list") + "?dalo=oui"))
    assert "DURAND" in page and "MARTIN0" not in page
    page = rows_of(client.get(reverse("cases:list") + "?etape=committee"))
    assert "MARTIN0" in page and "MARTIN1" not in page


def test_overdue_filter_uses_the_step_due_dates(client, world, cases):
    client.force_login(world.social_worker)
    assert "MARTIN1" not in rows_of(client.get(reverse("cases:list") + "?echeance=en-retard"))
    with time_machine.travel(timezone.now() + timedelta(days=120), tick=False):
        client.force_login(world.social_worker)
        page = rows_of(client.get(reverse("cases:list") + "?echeance=en-retard"))
    assert "MARTIN1" in page and "En retard" in page


def test_the_search_is_posted_and_the_url_holds_only_a_token(client, world, cases, caplog):
    client.force_login(world.social_worker)
    with caplog.at_level(logging.DEBUG):
        response = client.post(reverse("cases:list") + "?dalo=oui", {"q": "Durand", "etape": "diagnostic"})
    assert response.status_code == 302
    location = response["Location"]
    assert "Durand" not in location and "recherche=" in location and "etape=diagnostic" in location
    page = rows_of(client.get(location))
    assert "DURAND" in page and "MARTIN2" not in page
    assert "Durand" not in caplog.text
    # Someone else's session does not know the token.
    client.force_login(world.colleague)
    assert "DURAND" in rows_of(client.get(location.replace("etape=diagnostic", "")))  # token unknown: no search


def test_masked_names_stay_masked_in_the_list_and_the_export(client, world):
    protected = world.flag(HouseholdFactory(applicant_last_name="Secret"), is_protected=True)
    steps.label(world, steps.diagnose(world, protected))
    client.force_login(world.commission)
    page = rows_of(client.get(reverse("cases:list")))
    assert protected.reference in page
    response = client.get(reverse("cases:export_csv"))
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Référence"
    (row,) = [r for r in rows if r[0] == protected.reference]
    assert "Secret".upper() not in text.upper() or row[1] != ""


def test_export_xlsx_has_the_filtered_rows(client, world, cases):
    client.force_login(world.social_worker)
    response = client.get(reverse("cases:export_xlsx") + "?dalo=oui")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "Référence"
    assert [v[0] for v in values[1:]] == [cases[3].reference]
    assert values[1][1].startswith("DURAND")
