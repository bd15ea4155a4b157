"""The /accueil/ pages through the test client: orientation → referral → confirmation, contacts and
their export, the script's draft and publication, desks, access codes. Bad input: French, never a 500."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cases.models import Case
from reception.choices import PreFlagStatus
from reception.guidance import suggest
from reception.models import Contact, Desk, HouseholdAccess, PreFlag, ScriptEntry
from tests.factories import TOULON

pytestmark = pytest.mark.django_db

ANSWERS = {"q-housing_situation": "hosted", "q-violence": "on", "q-overcrowded": "on"}


def test_suggestions_follow_the_answers():
    codes = [s.code for s in suggest({"housing_situation": "shelter", "eviction": True, "dalo": True})]
    assert codes == ["dalo", "c", "j"]
    assert all(s.evidence and s.explanation for s in suggest({"housing_situation": "homeless", "violence": True}))
    assert suggest({"housing_situation": "owner"}) == []


def test_orientation_to_referral_then_confirmation(client, net):
    client.force_login(net.reception)
    url = reverse("reception:orientation")
    page = client.post(url, {**ANSWERS, "etape": "resultats"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "e) Violences" in text and "h) Enfant mineur" in text and "i) Dépourvu de logement" in text
    assert "Ordonnance de protection" in text  # the evidence to ask for
    assert not PreFlag.objects.exists() and not Contact.objects.exists()  # answers are not stored

    bad = client.post(url, {**ANSWERS, "etape": "orienter", "orienter-desk": net.desk.pk})
    assert bad.status_code == 200
    assert "L&#x27;accord de la personne est nécessaire" in bad.content.decode()

    response = client.post(
        url,
        {
            **ANSWERS,
            "etape": "orienter",
            "orienter-desk": net.desk.pk,
            "orienter-target_organisation": net.world.ccas.pk,
            "orienter-last_name": "Orientée",
            "orienter-first_name": "Jade",
            "orienter-phone": "0600000019",
            "orienter-commune": TOULON,
            "orienter-consent": "on",
            "orienter-channel": "in_person",
        },
    )
    assert response.status_code == 302
    preflag = PreFlag.objects.get()
    assert preflag.criteria == ["e", "h", "i"] and preflag.protection_suggested
    assert preflag.housing_situation == "hosted"

    sw = client
    sw.force_login(net.world.social_worker)
    listing = sw.get(reverse("reception:preflags")).content.decode()
    assert f"Examiner le pré-signalement n° {preflag.pk}" in listing
    detail_url = reverse("reception:preflag", kwargs={"pk": preflag.pk})
    detail = sw.get(detail_url).content.decode()
    assert "envisagez de protéger le dossier" in detail
    bad = sw.post(detail_url, {"action": "confirm", "menage-nud": "court", "menage-criteria": ["i"]})
    assert bad.status_code == 200 and "Le formulaire contient des erreurs" in bad.content.decode()
    confirmed = sw.post(
        detail_url,
        {
            "action": "confirm",
            "menage-nud": "08324012400001234A",
            "menage-applicant_last_name": "Orientée",
            "menage-applicant_first_name": "Jade",
            "menage-applicant_birth_date": "1990-02-03",
            "menage-commune": TOULON,
            "menage-housing_situation": "hosted",
            "menage-criteria": ["e", "i"],
            "menage-is_protected": "on",
        },
    )
    case = Case.objects.get()
    assert confirmed.status_code == 302 and confirmed.url == reverse("cases:detail", kwargs={"pk": case.pk})
    assert case.is_protected and sorted(case.criteria.values_list("code", flat=True)) == ["e", "i"]
    preflag.refresh_from_db()
    assert preflag.status == PreFlagStatus.CONFIRMED
    again = sw.post(detail_url, {"action": "decline", "decliner-reason": "Trop tard"})
    assert again.status_code == 302  # already decided: a message, nothing changes
    preflag.refresh_from_db()
    assert preflag.status == PreFlagStatus.CONFIRMED


def test_decline_needs_a_reason(client, net):
    preflag = PreFlag.objects.create(
        target_organisation=net.world.ccas,
        desk=net.desk,
        last_name="X",
        first_name="Y",
        phone="0600000000",
        commune_id=TOULON,
        housing_situation="hosted",
        created_by=net.reception,
    )
    client.force_login(net.world.supervisor)
    url = reverse("reception:preflag", kwargs={"pk": preflag.pk})
    response = client.post(url, {"action": "decline", "decliner-reason": ""})
    assert "Indiquez pourquoi le pré-signalement est décliné" in response.content.decode()
    assert client.post(url, {"action": "decline", "decliner-reason": "Suivi par le SIAO"}).status_code == 302
    preflag.refresh_from_db()
    assert preflag.status == PreFlagStatus.DECLINED


def test_information_given_is_recorded_and_exported(client, net):
    client.force_login(net.reception)
    response = client.post(
        reverse("reception:orientation"),
        {
            "q-housing_situation": "private_tenant",
            "etape": "information",
            "info-desk": net.desk.pk,
            "info-on": "2026-11-30",
            "info-channel": "phone",
            "info-topics": ["apply", "renew"],
        },
    )
    assert response.status_code == 302
    client.post(
        reverse("reception:contact_create"),
        {"desk": net.desk.pk, "on": "2026-10-02", "channel": "in_person", "topics": ["dalo"]},
    )
    bad = client.post(reverse("reception:contact_create"), {"desk": net.desk.pk, "on": "pas une date"})
    assert bad.status_code == 200 and "Saisissez une date valide" in bad.content.decode()
    assert Contact.objects.count() == 2

    client.force_login(net.head)
    stats = client.get(reverse("reception:stats")).content.decode()
    assert "2 contacts" in stats and "Renouveler sa demande" in stats
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("reception:stats_csv")).content.decode("utf-8-sig")), delimiter=";")
    )
    assert rows[0][:3] == ["Lieu", "Commune", "Mois"]
    assert {(r[2], r[5], r[6]) for r in rows[1:]} == {
        ("2026-11", "Déposer une demande de logement social", "1"),
        ("2026-11", "Renouveler sa demande", "1"),
        ("2026-10", "Le droit au logement opposable (DALO)", "1"),
    }
    xlsx = client.get(reverse("reception:stats_xlsx") + "?start=2026-11-01&end=2026-11-30")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 3  # header + two topics of November
    wrong = client.get(reverse("reception:stats") + "?start=2026-12-01&end=2026-01-01")
    assert wrong.status_code == 200 and "La date de début doit précéder" in wrong.content.decode()
    foreign = client.get(reverse("reception:stats_csv"), {"network": net.foreign_network.pk})
    # Another network's id is not a valid choice: the filter falls back to the head's own networks.
    assert foreign.status_code == 200 and len(foreign.content.decode("utf-8-sig").splitlines()) == 4


def test_script_draft_and_publication_through_the_pages(client, net):
    client.force_login(net.head)
    url = reverse("reception:script_draft")
    assert client.post(url, {"action": "start"}).status_code == 302
    bad = client.post(url, {"action": "add", "fiche-topic": "apply", "fiche-title": ""})
    assert "Ce champ est obligatoire" in bad.content.decode()
    client.post(
        url,
        {
            "action": "add",
            "fiche-topic": "dalo",
            "fiche-level": 1,
            "fiche-title": "Le DALO",
            "fiche-body": "Saisir la commission de médiation.",
            "fiche-is_public": "on",
            "fiche-position": 0,
        },
    )
    assert client.post(url, {"action": "publish", "publier-note": ""}).status_code == 200
    assert client.post(url, {"action": "publish", "publier-note": "Première version"}).status_code == 302
    assert "Le DALO" in client.get(reverse("reception:information")).content.decode()
    client.force_login(net.reception)
    assert "Version 1 publiée" in client.get(reverse("reception:script")).content.decode()
    entry = ScriptEntry.objects.get()
    client.force_login(net.head)
    assert client.get(reverse("reception:script_entry", kwargs={"pk": entry.pk})).status_code == 404  # published


def test_desk_directory_is_searchable_by_commune(client, net):
    page = client.get(reverse("reception:desks"), {"commune": "seyne"}).content.decode()
    assert "Point info" in page and "CCAS accueil" not in page
    page = client.get(reverse("reception:desks"), {"commune": TOULON, "level": "3"}).content.decode()
    assert "CCAS accueil" in page
    assert client.get(reverse("reception:desks"), {"level": "douze"}).status_code == 200


def test_desk_edit_by_territory_admin_is_audited(client, net):
    client.force_login(net.admin)
    url = reverse("reception:desk_edit", kwargs={"pk": net.desk.pk})
    data = {
        "network": net.network.pk,
        "organisation": net.world.ccas.pk,
        "name": "CCAS accueil (rénové)",
        "level": 3,
        "address": "2 rue du Test",
        "commune": TOULON,
        "opening_hours": "9 h – 17 h",
        "languages": "français",
        "is_active": "on",
    }
    assert client.post(url, {**data, "level": 9}).status_code == 200
    assert client.post(url, data).status_code == 302
    desk = Desk.objects.get(pk=net.desk.pk)
    assert desk.name == "CCAS accueil (rénové)"
    assert desk.history.first().history_user == net.admin
    foreign = reverse("reception:desk_edit", kwargs={"pk": net.foreign_desk.pk})
    assert client.get(foreign).status_code == 404


def test_access_code_page_shows_the_code_once(client, net):
    case = net.world.flag()
    client.force_login(net.world.social_worker)
    url = reverse("reception:household_access", kwargs={"case_pk": case.pk})
    bad = client.post(url, {"holder": "Le ménage", "channel": "sms", "destination": "0123"})
    assert "numéro de mobile français" in bad.content.decode()
    page = client.post(url, {"holder": "Le ménage", "channel": "sms", "destination": "0612345678"}).content.decode()
    assert "Code d'accès personnel" in page
    assert (
        "Ce code n'est affiché qu'une fois"
        in client.post(
            url, {"holder": "Sa fille", "channel": "email", "destination": "fille@example.org"}
        ).content.decode()
    )
    again = client.get(url).content.decode()
    assert "Ce code n'est affiché" not in again and "Sa fille" in again
    item = HouseholdAccess.objects.filter(holder="Sa fille").get()
    revoke = reverse("reception:household_access_revoke", kwargs={"pk": item.pk})
    assert client.post(revoke).status_code == 302
    item.refresh_from_db()
    assert item.revoked_at is not None
