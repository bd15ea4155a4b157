"""The SIAO's referrals imported as pre-flags: sample file, idempotence, conflicts, every rejection
message, all-or-nothing; the page (territory administrators); the pre-flag then confirmed or
declined on the reception pages by a social worker of the organisation the referral names only."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from cases.choices import CriterionSource
from cases.models import CaseCriterion
from exchanges.files import Report
from exchanges.models import ImportJob, JobKind
from exchanges.siao import SiaoImport
from permissions.roles import Role
from reception.choices import PreFlagSource, PreFlagStatus
from reception.models import PreFlag
from tests.factories import LA_SEYNE, NANTES, TOULON, OrganisationFactory, member

SAMPLES = Path(__file__).with_name("samples")
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(world):
    return member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON, LA_SEYNE], username="admin-siao")


def run(actor, name=None, *, path=None, **options):
    path = path or SAMPLES / name
    report = io.StringIO()
    importer = SiaoImport(
        actor=actor, reason="Import SIAO de test", allowed_communes={TOULON, LA_SEYNE}, report=Report(report), **options
    )
    with path.open("rb") as binary:
        return importer.run_file(binary, path.name), report.getvalue()


def test_referrals_become_pending_siao_preflags_with_the_referring_structure(world, admin):
    result, _report = run(admin, "siao-orientations.csv")
    assert (result.lines, result.created, result.rejected) == (2, 2, 0)
    first = PreFlag.objects.get(siao_reference="SIAO83-2026-0001")
    assert first.source == PreFlagSource.SIAO and first.desk is None and first.status == PreFlagStatus.PENDING
    assert (first.referrer_name, first.referrer_siret) == ("Accueil de jour Les Mouettes (fictif)", "12345678900011")
    assert (first.first_name, first.phone, first.criteria, first.siao_departement) == (
        "Léa",
        "0600000001",
        ["i", "c"],
        "83",
    )
    assert first.target_organisation == world.ccas and first.created_by == admin
    second = PreFlag.objects.get(siao_reference="SIAO83-2026-0002")
    assert second.housing_situation == "shelter" and second.protection_suggested
    history = PreFlag.history.all()
    assert history.count() == 2
    assert {(h.history_user_id, h.history_change_reason) for h in history} == {(admin.pk, "Import SIAO de test")}


def test_the_same_file_twice_creates_nothing(world, admin):
    run(admin, "siao-orientations.csv")
    result, _report = run(admin, "siao-orientations.csv")
    assert (result.created, result.unchanged) == (0, 2)
    assert result.verdict == "Aucun changement : ce fichier a déjà été importé tel quel."
    assert PreFlag.objects.count() == 2 and PreFlag.history.count() == 2


def test_a_known_reference_with_other_values_is_a_conflict_left_as_it_is(world, admin, tmp_path):
    run(admin, "siao-orientations.csv")
    path = tmp_path / "siao.csv"
    path.write_bytes((SAMPLES / "siao-orientations.csv").read_bytes().replace(b"06 00 00 00 01", b"0611111111"))
    result, report = run(admin, path=path)
    assert (result.conflicts, result.unchanged, result.created) == (1, 1, 0)
    line, column, kind, message = result.messages[0]
    assert (line, column, kind) == (2, "reference_siao", "conflit")
    assert message.startswith("orientation déjà importée avec d'autres valeurs")
    assert PreFlag.objects.get(siao_reference="SIAO83-2026-0001").phone == "0600000001"


def test_every_rejection_has_its_french_message_and_nothing_is_imported(world, admin):
    result, report = run(admin, "siao-erreurs.csv")
    assert result.rejected == 13 and not result.applied and not PreFlag.objects.exists()
    messages = {(line, column): message for line, column, _kind, message in result.messages}
    assert messages[(3, "reference_siao")] == "valeur obligatoire manquante"
    assert messages[(4, "nom")] == "valeur obligatoire manquante"
    assert messages[(5, "telephone")] == "numéro de téléphone invalide"
    assert messages[(6, "courriel")] == "adresse électronique invalide"
    assert messages[(7, "commune_insee")] == "commune inconnue : code INSEE « 99999 » absent du référentiel"
    assert messages[(8, "commune_insee")] == "commune hors de votre territoire"
    assert messages[(9, "situation_logement")].startswith("situation inconnue ou hors du champ du SIAO")
    assert messages[(10, "criteres")].startswith("critère inconnu : « z »")
    assert messages[(11, "protection")] == "valeur attendue : « oui » ou « non »"
    assert messages[(12, "structure_orientatrice")] == "valeur obligatoire manquante"
    assert messages[(13, "siret_structure")] == "SIRET invalide : 14 chiffres attendus"
    assert messages[(14, "organisation_destinataire")].startswith("organisation destinataire inconnue")
    assert messages[(15, "reference_siao")] == "ligne en double : déjà présente ligne 2 du fichier"
    assert len(messages) == 13 and "15;reference_siao;rejet;ligne en double" in report
    assert "rien n'a été importé" in result.verdict


def test_skip_invalid_imports_the_good_line(world, admin):
    result, _report = run(admin, "siao-erreurs.csv", skip_invalid=True)
    assert result.created == 1 and PreFlag.objects.get().siao_reference == "SIAO83-2026-0101"


def test_the_command(world, admin):
    out = io.StringIO()
    call_command("import_siao_referrals", str(SAMPLES / "siao-orientations.csv"), user="admin-siao", stdout=out)
    assert "2 créée(s)" in out.getvalue() and PreFlag.objects.count() == 2


def test_the_page_for_territory_administrators_only(client, world, admin, django_capture_on_commit_callbacks):
    client.force_login(world.social_worker)
    assert client.get(reverse("exchanges:siao")).status_code == 403
    client.force_login(admin)
    assert "reference_siao" in client.get(reverse("exchanges:siao")).content.decode()
    file = SimpleUploadedFile("siao-orientations.csv", (SAMPLES / "siao-orientations.csv").read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exchanges:siao"), {"file": file})
    job = ImportJob.objects.get()
    assert job.kind == JobKind.SIAO and response["Location"] == reverse("exchanges:job", args=[job.pk])
    assert "Import enregistré." in client.get(response["Location"]).content.decode()
    assert PreFlag.history.filter(history_change_reason=f"Import n° {job.pk} (siao-orientations@1)").count() == 2
    client.force_login(member(Role.TERRITORY_ADMIN, communes=[NANTES]))
    assert client.get(reverse("exchanges:job", args=[job.pk])).status_code == 404


# --- the pre-flag on the reception pages --------------------------------------------------------------


@pytest.fixture
def referral(world, admin):
    run(admin, "siao-orientations.csv")
    return PreFlag.objects.get(siao_reference="SIAO83-2026-0001")


def test_the_named_organisation_confirms_and_the_case_opens(client, world, referral):
    client.force_login(world.social_worker)
    listing = client.get(reverse("reception:preflags")).content.decode()
    assert "SIAO (Accueil de jour Les Mouettes (fictif), SIRET 12345678900011), réf. SIAO83-2026-0001" in listing
    page = client.get(reverse("reception:preflag", args=[referral.pk]))
    assert page.status_code == 200 and "Accueil de jour Les Mouettes" in page.content.decode()
    response = client.post(
        reverse("reception:preflag", args=[referral.pk]),
        {
            "action": "confirm",
            "menage-nud": "08324011234500009K",
            "menage-applicant_last_name": "Fictif",
            "menage-applicant_first_name": "Léa",
            "menage-applicant_birth_date": "17/05/1985",
            "menage-phone": "0600000001",
            "menage-commune": TOULON,
            "menage-housing_situation": "homeless",
            "menage-criteria": ["i"],
        },
    )
    referral.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:3000]
    assert referral.status == PreFlagStatus.CONFIRMED and referral.case is not None
    assert referral.case.organisation == world.ccas
    assert list(CaseCriterion.objects.filter(case=referral.case).values_list("source", flat=True)) == [
        CriterionSource.SIAO
    ]


def test_decline_with_a_reason(client, world, referral):
    client.force_login(world.colleague)
    response = client.post(
        reverse("reception:preflag", args=[referral.pk]),
        {"action": "decline", "decliner-reason": "Déjà suivi ailleurs"},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == PreFlagStatus.DECLINED and referral.decided_by == world.colleague


def test_social_workers_of_other_organisations_get_404(client, world, referral):
    outsider = member(Role.SOCIAL_WORKER, OrganisationFactory(name="Autre CCAS (test)"))
    client.force_login(outsider)
    assert client.get(reverse("reception:preflag", args=[referral.pk])).status_code == 404
    response = client.post(
        reverse("reception:preflag", args=[referral.pk]), {"action": "decline", "decliner-reason": "x"}
    )
    assert response.status_code == 404
    assert "SIAO83-2026-0001" not in client.get(reverse("reception:preflags")).content.decode()
    referral.refresh_from_db()
    assert referral.status == PreFlagStatus.PENDING
