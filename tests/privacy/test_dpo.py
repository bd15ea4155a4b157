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


def test_the_dpo_reads_the_log_filters_it_and_exports_it(client, world, closed_case, dpo):
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


OUTSIDE = "dossiers consultés hors de son périmètre habituel dans la journée"


@pytest.fixture
def four_cases(world):
    return [world.flag() for _ in range(4)]


def test_reads_outside_the_usual_scope_are_flagged_above_the_threshold(client, world, dpo, four_cases, settings):
    settings.PPGDID_DPO_OUTSIDE_SCOPE_READS_A_DAY = 3
    outsider = member(Role.SOCIAL_WORKER, OrganisationFactory(name="Autre association (test)"), username="curieux")
    for case in four_cases:  # the CCAS's own cases: usual for its supervisor, however many
        log_read(world.supervisor, case, Section.NARRATIVE)
        log_read(world.supervisor, case, Section.HEALTH)
    for case in four_cases[:3]:  # at the threshold: not flagged (two reads of one case count once)
        log_read(outsider, case, Section.NARRATIVE)
        log_read(outsider, case, Section.HEALTH)
    login(client, dpo)
    html = client.get(reverse("privacy:dpo")).content.decode()
    assert OUTSIDE not in html
    log_read(outsider, four_cases[3], Section.NARRATIVE)  # one more case: above the threshold
    html = client.get(reverse("privacy:dpo")).content.decode()
    assert f"curieux : 4 {OUTSIDE}" in html and f"encadrant : 8 {OUTSIDE}" not in html
    assert "Au-delà de 3 dossiers" in html
    only = client.get(reverse("privacy:dpo"), {"outside_scope": "on"}).content.decode()
    assert "<td>curieux</td>" in only and "<td>encadrant</td>" not in only
    flags_csv = client.get(reverse("privacy:dpo"), {"format": "signalements"}).content.decode().splitlines()
    assert flags_csv[0] == "jour;utilisateur;signalement" and any(";curieux;4 dossiers" in line for line in flags_csv)
    # The filters apply to the flags: another reader, no flag.
    assert OUTSIDE not in client.get(reverse("privacy:dpo"), {"user": world.supervisor.pk}).content.decode()


def test_break_the_glass_is_never_usual_and_the_referent_always_is(world, four_cases, settings):
    settings.PPGDID_DPO_OUTSIDE_SCOPE_READS_A_DAY = 0
    for case in four_cases:
        log_read(world.supervisor, case, Section.PROTECTED_CASE, reason="Urgence signalée")
        log_read(world.social_worker, case, Section.NARRATIVE)  # its referent
        log_read(world.auditor, case, Section.HISTORY)  # the auditor role reads every case
    reads = dpo_module.reads({world.ccas.pk}, {})
    outside = reads.exclude(dpo_module.usual_scope())
    assert set(outside.values_list("user__username", flat=True)) == {"encadrant"}
    flagged = [f for f in dpo_module.flags(reads) if OUTSIDE in f["kind"]]
    assert [(f["user"], f["kind"].split()[0]) for f in flagged] == [("encadrant", "4")]


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
