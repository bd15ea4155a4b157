"""The DPO's view: the read log of their organisations' cases, filters, flags, CSV, retention status."""

import logging

import pytest
from django.urls import reverse

from audit.models import Section
from audit.reads import log_read
from permissions.roles import Role
from privacy import dpo as dpo_module
from privacy import services
from privacy.models import LegalHold
from tests.factories import OrganisationFactory, member

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo(world):
    return member(Role.DPO, world.ccas, username="dpo")


def test_the_dpo_reads_the_log_filters_it_and_exports_it(client, world, closed_case, dpo, monkeypatch):
    log_read(world.auditor, closed_case, Section.HEALTH)
    log_read(world.supervisor, closed_case, Section.PROTECTED_CASE, reason="Urgence signalée")
    services.place_hold(world.supervisor, closed_case, LegalHold.Kind.LITIGATION, "Contentieux en cours")
    login(client, dpo)
    page = client.get(reverse("privacy:dpo"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "auditeur" in html and "encadrant" in html
    assert "Dossiers sous gel légal</dt><dd>1</dd>" in html
    assert "consultation(s) de dossier protégé ou exceptionnelle(s)" in html
    only_glass = client.get(reverse("privacy:dpo"), {"break_glass": "on"}).content.decode()
    assert "encadrant" in only_glass and "<td>auditeur</td>" not in only_glass
    by_user = client.get(reverse("privacy:dpo"), {"user": world.auditor.pk}).content.decode()
    assert "<td>encadrant</td>" not in by_user and "<td>auditeur</td>" in by_user
    csv = client.get(reverse("privacy:dpo"), {"user": world.auditor.pk, "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().strip().splitlines()
    assert lines[0].startswith("date;utilisateur;dossier") and len(lines) == 2 and ";auditeur;" in lines[1]
    monkeypatch.setattr(dpo_module, "MANY_CASES_A_DAY", 0)
    assert "dossiers consultés dans la journée" in client.get(reverse("privacy:dpo")).content.decode()


def test_bad_filters_get_french_messages_not_a_500(client, dpo):
    login(client, dpo)
    response = client.get(reverse("privacy:dpo"), {"since": "2026-13-45", "case": "abc"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saisissez une date valide." in html and "Saisissez un nombre." in html
    response = client.get(reverse("privacy:dpo"), {"since": "2026-05-02", "until": "2026-05-01"})
    assert "La date de début doit précéder la date de fin." in response.content.decode()


def test_the_dpo_sees_only_the_reads_of_its_organisations(client, world, closed_case):
    other = member(Role.DPO, OrganisationFactory(name="Autre CCAS (test)"), username="dpo2")
    log_read(world.auditor, closed_case, Section.HEALTH)
    login(client, other)
    assert "<td>auditeur</td>" not in client.get(reverse("privacy:dpo")).content.decode()


@pytest.mark.parametrize("who", ["social_worker", "supervisor", "auditor", "commission"])
def test_others_get_a_logged_404(client, world, who, caplog):
    login(client, getattr(world, who))
    with caplog.at_level(logging.WARNING, logger="ppgdid.access"):
        assert client.get(reverse("privacy:dpo")).status_code == 404
    assert "action=dpo_view" in caplog.text
