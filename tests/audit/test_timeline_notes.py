"""Case notes on the timeline: an entry per note the reader may read (its category), filterable, at a
constant cost in queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from permissions.categories import Category
from tests.workflows import steps
from workflows import notes

from .conftest import login

pytestmark = pytest.mark.django_db

NARRATIVE = "Appel de la mère : l'hébergement chez la sœur s'arrête fin du mois."
SYNTHESIS = "Point avant la commission."


def write(world, case, **values):
    data = {"kind": "phone", "contact_date": timezone.localdate(), "category": Category.NARRATIVE, "text": NARRATIVE}
    return notes.note_add(actor=world.social_worker, case=case, **(data | values))


def timeline(client, case, query=""):
    response = client.get(reverse("audit:timeline", args=[case.pk]) + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def noted(world):
    case = steps.diagnose(world, world.flag())  # at the committee: the commission member sees it
    write(world, case)
    write(world, case, category=Category.SYNTHESIS, kind="meeting", text=SYNTHESIS)
    return case


def test_notes_are_entries_of_the_categories_the_reader_may_read(client, world, noted):
    login(client, world.social_worker)
    html = timeline(client, noted)
    assert NARRATIVE.replace("'", "&#x27;") in html and SYNTHESIS in html
    assert "Appel téléphonique du" in html and "Notes de suivi" in html
    assert "Visibilité : " in html
    login(client, world.commission)
    html = timeline(client, noted)
    assert SYNTHESIS in html
    assert "hébergement chez la sœur" not in html  # the narrative category is hidden from commissions
    assert html.count("timeline-note") == 1


def test_notes_are_newest_first_and_filterable(client, world, noted):
    login(client, world.social_worker)
    html = timeline(client, noted, "?kinds=note")
    assert html.index(SYNTHESIS) < html.index("hébergement chez la sœur")  # the later note first
    assert html.count('class="timeline-event timeline-note"') == 2
    assert "timeline-step" not in html
    assert SYNTHESIS not in timeline(client, noted, "?kinds=step")


def test_a_landlord_out_of_scope_gets_a_404(client, world, noted):
    login(client, world.landlord_agent)
    assert client.get(reverse("audit:timeline", args=[noted.pk])).status_code == 404


def test_notes_cost_a_constant_number_of_queries(client, world, noted):
    login(client, world.social_worker)
    url = reverse("audit:timeline", args=[noted.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for i in range(5):
        write(world, noted, text=f"Note {i}")
    with CaptureQueriesContext(connection) as after:
        html = client.get(url).content.decode()
    assert "Note 4" in html
    assert len(after.captured_queries) == len(before.captured_queries)
