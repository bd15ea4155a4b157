"""The household's right of access (art. 15): contents, formats, who may export, the read log."""

import json
import logging

import pytest
from django.urls import reverse

from audit.models import AccessLog, Section
from audit.reads import log_read
from notifications.models import Notification
from permissions.roles import Role
from privacy.models import SubjectAccessExport
from tests.factories import OrganisationFactory, member

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo(world):
    return member(Role.DPO, world.ccas, username="dpo")


def download(client, user, case, fmt="json"):
    login(client, user)
    return client.get(reverse(f"privacy:export_{fmt}", args=[case.pk]))


def test_the_referent_exports_everything_held_about_the_household_as_json(client, world, closed_case):
    log_read(world.auditor, closed_case, Section.HEALTH)
    response = download(client, world.social_worker, closed_case)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    pack = json.loads(response.content)
    household = closed_case.household
    data = {item["objet"]: item["valeurs"] for item in pack["données"]}
    assert data["Ménage"]["nom du demandeur"] == household.applicant_last_name
    assert data["Ménage"]["téléphone"] == "0699887766"
    assert data["Membre du ménage"]["prénom"] == "Camille"
    assert data["Diagnostic social"]["santé et autonomie"] == "Asthme sévère d'un enfant."
    assert "Proposition de logement" in data and "Décision de la CALEOL" in data
    # What the matrix hides from the household itself: the violence facts (they may name the aggressor).
    assert "Auteurprésumé" not in response.content.decode()
    # The history of changes: the old phone numbers, with who and when.
    changes = next(h for h in pack["historique des modifications"] if h["objet"] == "Ménage")["modifications"]
    phones = [c["valeurs"].get("téléphone") for c in changes]
    assert phones[:3] == ["0600000000", "0611223344", "0699887766"]
    assert changes[1]["par"] and changes[1]["type"] == "modification"
    # Who was told what and when, and the read log of the case.
    told = Notification.objects.filter(case=closed_case).count()
    assert told and len(pack["informations transmises"]) == told
    reads = pack["consultations du dossier"]
    assert any(r["partie consultée"] == "Santé et handicap" for r in reads)


def test_the_export_is_logged_and_kept(client, world, closed_case):
    before = AccessLog.objects.filter(case=closed_case, section=Section.SUBJECT_ACCESS).count()
    response = download(client, world.social_worker, closed_case, "pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("attachment;")
    read = AccessLog.objects.filter(case=closed_case, section=Section.SUBJECT_ACCESS).get()
    assert before == 0 and read.user == world.social_worker
    export = SubjectAccessExport.objects.get(case=closed_case)
    assert export.pdf_file.name.endswith(".pdf") and export.requested_by == world.social_worker


def test_the_dpo_of_the_case_organisation_exports_it(client, world, closed_case, dpo):
    assert download(client, dpo, closed_case).status_code == 200
    login(client, dpo)
    page = client.get(reverse("privacy:subject_access", args=[closed_case.pk]))
    assert page.status_code == 200
    assert "Télécharger l'export (PDF)" in page.content.decode()
    assert AccessLog.objects.filter(case=closed_case, section=Section.SUBJECT_ACCESS, user=dpo).exists()


@pytest.mark.parametrize("who", ["colleague", "supervisor", "auditor", "commission", "landlord_agent", "other_dpo"])
def test_everyone_else_gets_a_404_logged_and_no_export(client, world, closed_case, who, caplog):
    if who == "other_dpo":
        user = member(Role.DPO, OrganisationFactory(name="Autre CCAS (test)"), username="dpo2")
    else:
        user = getattr(world, who)
    with caplog.at_level(logging.WARNING, logger="ppgdid.access"):
        for fmt in ("json", "pdf"):
            assert download(client, user, closed_case, fmt).status_code == 404
        assert client.get(reverse("privacy:subject_access", args=[closed_case.pk])).status_code == 404
    assert f"action=subject_access object=case:{closed_case.pk}" in caplog.text
    assert not SubjectAccessExport.objects.exists()
    assert not AccessLog.objects.filter(section=Section.SUBJECT_ACCESS).exists()


def test_anonymous_users_are_sent_to_login(client, closed_case):
    response = client.get(reverse("privacy:export_json", args=[closed_case.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
