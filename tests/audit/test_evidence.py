"""The evidence pack: auditors export a case's whole history as CSV and PDF; nobody else can."""

import csv
import io

import pytest
from django.urls import reverse

from audit.models import AccessLog, Section

from .conftest import login

pytestmark = pytest.mark.django_db

EXPORTS = ("audit:export_csv", "audit:export_pdf")


@pytest.mark.parametrize("name", EXPORTS)
def test_only_auditors_get_the_pack(client, rehoused, world, name):
    url = reverse(name, args=[rehoused.pk])
    assert client.get(url).status_code == 302  # anonymous: login
    for user in (world.social_worker, world.supervisor, world.landlord_agent, world.other_landlord_agent):
        login(client, user)
        assert client.get(url).status_code == 404, user
    login(client, world.auditor)
    response = client.get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert AccessLog.objects.filter(user=world.auditor, case=rehoused, section=Section.EVIDENCE_PACK).count() == 1


def test_csv_holds_the_whole_story(client, rehoused, world):
    login(client, world.auditor)
    response = client.get(reverse("audit:export_csv", args=[rehoused.pk]))
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Dossier", rehoused.reference]
    assert rows[2][:2] == ["Chaîne d'audit", "intacte"]
    assert ["Date", "Type", "Événement", "Auteur", "Motif", "Champ", "Avant", "Après"] in rows
    fields = {r[5] for r in rows if len(r) == 8}
    assert {"Santé et autonomie", "Évaluation sociale détaillée", "Nombre de refus"} <= fields
    kinds = {r[1] for r in rows if len(r) == 8}
    assert {"Étapes du parcours", "Modifications", "Décisions", "Droits d'accès", "Consultations"} <= kinds
    assert any(r[5] == "Nombre de refus" and (r[6], r[7]) == ("0", "1") for r in rows if len(r) == 8)


def test_pdf_is_a_pdf(client, rehoused, world):
    login(client, world.auditor)
    response = client.get(reverse("audit:export_pdf", args=[rehoused.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 3000
