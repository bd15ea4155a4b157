"""Issue 18 part 4: case notes and contact log: categories of the matrix, mentions, corrections."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from cases.models import CaseNote
from notifications.models import Notification
from permissions.categories import Category
from workflows import notes

from . import steps

pytestmark = pytest.mark.django_db


def write(world, case, actor=None, **values):
    data = {
        "kind": "phone",
        "contact_date": timezone.localdate(),
        "category": Category.NARRATIVE,
        "text": "Appel de la mère : l'hébergement chez la sœur s'arrête fin du mois.",
    } | values
    return notes.note_add(actor=actor or world.social_worker, case=case, **data)


def test_readers_see_only_the_categories_they_may_see(world, client):
    case = world.flag()
    steps.diagnose(world, case)  # at the committee: the commission member sees the case
    narrative = write(world, case)
    synthesis = write(world, case, category=Category.SYNTHESIS, kind="meeting", text="Point avant la commission.")

    assert notes.visible_notes(world.social_worker, case) == [synthesis, narrative]
    assert notes.visible_notes(world.commission, case) == [synthesis]  # the narrative is hidden from commissions
    client.force_login(world.commission)
    page = client.get(reverse("cases:notes", args=[case.pk])).content.decode()
    assert "Point avant la commission." in page and "hébergement chez la sœur" not in page
    client.force_login(world.landlord_agent)  # not designated: the case is out of scope
    assert client.get(reverse("cases:notes", args=[case.pk])).status_code == 404

    # The commission member may not file a note under a category they cannot read.
    with pytest.raises(ValidationError):
        write(world, case, actor=world.commission, category=Category.NARRATIVE)
    with pytest.raises(PermissionDenied):  # the auditor reads, never writes
        write(world, case, actor=world.auditor, category=Category.SYNTHESIS)


def test_reading_a_sensitive_note_is_logged(world, client):
    case = world.flag()
    write(world, case)
    client.force_login(world.colleague)
    before = AccessLog.objects.filter(case=case, user=world.colleague).count()
    assert "hébergement chez la sœur" in client.get(reverse("cases:notes", args=[case.pk])).content.decode()
    assert AccessLog.objects.filter(case=case, user=world.colleague, section="narrative").count() == before + 1


def test_a_mention_notifies_a_colleague_who_may_read_the_note(world):
    case = world.flag()
    note = write(world, case, mentioned=world.colleague)
    told = Notification.objects.filter(template="note_mentioned")
    assert {(n.recipient, n.case_id) for n in told} == {(world.colleague, case.pk)}
    assert all("hébergement" not in str(n.context) for n in told)  # the text stays in the application
    assert note.mentioned == world.colleague
    # Someone outside the case's readers (or of another organisation) cannot be named.
    with pytest.raises(ValidationError):
        write(world, case, mentioned=world.landlord_agent)
    assert world.colleague in notes.mention_candidates(world.social_worker, case, Category.NARRATIVE)
    assert world.landlord_agent not in notes.mention_candidates(world.social_worker, case)


def test_a_correction_is_a_new_note(world, client):
    case = world.flag()
    first = write(world, case, text="Rendez-vous le 12.")
    client.force_login(world.social_worker)
    url = reverse("cases:notes", args=[case.pk])
    assert f'value="{first.pk}" selected' in client.get(url + f"?corrige={first.pk}").content.decode()
    response = client.post(
        url,
        {
            "kind": "phone",
            "contact_date": timezone.localdate().isoformat(),
            "category": Category.NARRATIVE,
            "text": "Rendez-vous le 13, pas le 12.",
            "corrects": first.pk,
        },
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.text == "Rendez-vous le 12."  # never edited in place
    correction = CaseNote.objects.get(corrects=first)
    assert correction.history.latest().history_user == world.social_worker
    page = client.get(url).content.decode()
    assert "Cette note a été corrigée par une note plus récente." in page


def test_bad_input_gives_french_messages(world, client):
    case = world.flag()
    client.force_login(world.social_worker)
    url = reverse("cases:notes", args=[case.pk])
    future = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = client.post(url, {"kind": "visit", "contact_date": future, "category": Category.NARRATIVE, "text": "x"})
    assert response.status_code == 200
    assert "ne peut pas être dans le futur" in response.content.decode()
    response = client.post(url, {"kind": "visit", "contact_date": "31/02/2026", "category": "violence", "text": ""})
    assert response.status_code == 200 and "Saisissez une date valide" in response.content.decode()
    assert not CaseNote.objects.exists()


def test_the_case_page_section_costs_at_most_two_queries(world, client):
    case = world.flag()
    for i in range(4):
        write(world, case, text=f"Note {i}")
    client.force_login(world.social_worker)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Note 3" in page and "Notes de suivi" in page
    assert len([q for q in queries.captured_queries if "cases_casenote" in q["sql"]]) <= 2
