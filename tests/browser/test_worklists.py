"""Issue 18 part 1 in the browser: a social worker filters the task list, the filters land in the URL
(bookmarkable), exports the filtered list as XLSX and the file opens with the expected rows."""

import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import HouseholdFactory
from workflows import services

from .support import check_a11y, expect
from .test_journeys import label, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_user_filters_the_task_list_and_exports_it(world, people):
    others = [world.flag(HouseholdFactory(applicant_last_name=f"Martin{i}")) for i in range(2)]
    dalo = world.flag(HouseholdFactory(applicant_last_name="Durand"), is_dalo=True)
    services.task_claim(actor=world.social_worker, case=others[0], node_name="diagnostic")

    ts = people.open("ts")
    page = ts.page
    log_in(ts, "ts")
    page.goto(reverse("workflows:inbox"))
    queue = page.get_by_role("table", name="Étapes disponibles pour mon équipe")
    expect(queue).to_contain_text(others[1].reference)
    page.get_by_label(label("DALO")).select_option(label="Oui")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r"dalo=oui"))
    expect(queue).to_contain_text(dalo.reference)
    expect(queue).not_to_contain_text(others[1].reference)
    expect(page.get_by_role("table", name="Étapes que j'ai prises en charge")).to_have_count(0)
    check_a11y(ts, "inbox-filtered")
    ts.step("filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excel (XLSX) : étapes disponibles").click()
    download = download_info.value
    assert download.suggested_filename.startswith("etapes-disponibles-") and download.suggested_filename.endswith(
        ".xlsx"
    )
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    values = list(sheet.values)
    assert values[0][:4] == ("Référence", "Ménage", "Commune", "Étape")
    assert [row[0] for row in values[1:]] == [dalo.reference]
    assert values[1][1].startswith("DURAND")
