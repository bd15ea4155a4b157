"""Exchanges with the State's priority-pool tool: the export (only what the user may see, logged as
reads) and the import of the tool's results (idempotent, audited, conflicts, every rejection,
all-or-nothing), through the command, the module and the page."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from audit.models import AccessLog, Section
from cases import choices
from cases.models import CommitteeReview
from exchanges.files import Report
from exchanges.layouts import POOL_EXPORT
from exchanges.models import ImportJob, JobKind, PoolResult, PoolResultKind
from exchanges.state_pool import ResultsImport
from permissions.roles import Role
from tests.factories import LA_SEYNE, NANTES, TOULON, OrganisationFactory, commune, member

SAMPLES = Path(__file__).with_name("samples")
pytestmark = pytest.mark.django_db


def labelled(world, case):
    CommitteeReview.objects.create(
        case=case,
        outcome=choices.CommitteeOutcome.LABELLED,
        orientation=choices.Orientation.ORDINARY,
        designated_landlord=world.landlord,
        decided_by=world.commission,
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def pool(world):
    world.reservataire.siren = "123456789"
    world.reservataire.save()
    world.admin = member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON, LA_SEYNE], username="admin-etat")
    world.first = labelled(world, world.flag(world.household(nud="08324011234500001A")))
    world.second = world.flag(world.household(nud="08324011234500002B"), is_dalo=True)
    return world


def run(world, name, **options):
    report = io.StringIO()
    importer = ResultsImport(
        actor=world.admin,
        reason="Import de test",
        allowed_communes={TOULON, LA_SEYNE},
        report=Report(report),
        **options,
    )
    with (SAMPLES / name).open("rb") as binary:
        result = importer.run_file(binary, name)
    return result, report.getvalue()


# --- import of the results --------------------------------------------------------------------------


def test_results_are_recorded_on_the_cases_with_the_import_reason(pool):
    result, _report = run(pool, "contingent-resultats.csv")
    assert (result.lines, result.created, result.rejected, result.conflicts) == (2, 2, 0, 0)
    assert result.verdict == "Import enregistré."
    designation = PoolResult.objects.get(case=pool.first)
    assert designation.kind == PoolResultKind.DESIGNATION and designation.reservataire == pool.reservataire
    allocation = PoolResult.objects.get(case=pool.second)
    assert allocation.kind == PoolResultKind.ALLOCATION and allocation.dwelling_rpls == "RPLS-0001"
    rows = PoolResult.history.all()
    assert rows.count() == 2
    assert {(r.history_user_id, r.history_change_reason) for r in rows} == {(pool.admin.pk, "Import de test")}


def test_the_same_file_twice_changes_nothing_and_says_so(pool):
    run(pool, "contingent-resultats.csv")
    result, _report = run(pool, "contingent-resultats.csv")
    assert (result.created, result.unchanged) == (0, 2)
    assert result.verdict == "Aucun changement : ce fichier a déjà été importé tel quel."
    assert PoolResult.objects.count() == 2 and PoolResult.history.count() == 2


def test_a_line_contradicting_a_recorded_result_is_a_conflict_not_written(pool, tmp_path):
    run(pool, "contingent-resultats.csv")
    other = OrganisationFactory(name="Préfecture (test)", kind=choices.OrganisationKind.STATE, siren="987654321")
    changed = (SAMPLES / "contingent-resultats.csv").read_text().replace("02/11/2026;123456789", "02/11/2026;987654321")
    (tmp_path / "conflit.csv").write_text(changed)
    importer = ResultsImport(actor=pool.admin, reason="Import de test", allowed_communes={TOULON, LA_SEYNE})
    with (tmp_path / "conflit.csv").open("rb") as binary:
        result = importer.run_file(binary, "conflit.csv")
    assert (result.conflicts, result.unchanged, result.created) == (1, 1, 0)
    line, column, kind, message = result.messages[0]
    assert (line, column, kind) == (2, "siren_reservataire", "conflit")
    assert "déjà enregistré pour ce dossier (Action Logement (test))" in message
    assert PoolResult.objects.get(case=pool.first).reservataire_id == pool.reservataire.pk != other.pk


def test_every_rejection_has_its_french_message_and_nothing_is_imported(pool):
    result, report = run(pool, "contingent-resultats-erreurs.csv")
    assert result.rejected == 10 and not result.applied
    assert "rien n'a été importé" in result.verdict
    assert not PoolResult.objects.exists() and not PoolResult.history.exists()
    messages = {(line, column): message for line, column, _kind, message in result.messages}
    assert messages[(3, "nud")].startswith("Numéro unique invalide")
    assert messages[(4, "nud")] == "aucun dossier ouvert pour ce NUD sur votre territoire"
    assert messages[(5, "type")] == "type inconnu : « designation » ou « attribution » attendu"
    assert messages[(6, "date")].startswith("date impossible ou illisible")
    assert messages[(7, "date")] == "date impossible : elle est dans le futur"
    assert messages[(8, "siren_reservataire")] == "SIREN invalide : 9 chiffres attendus"
    assert messages[(9, "siren_reservataire")] == "réservataire inconnu : aucune organisation n'a ce SIREN"
    assert messages[(10, "rpls_logement")] == "identifiant RPLS obligatoire pour une attribution"
    assert messages[(11, "nud")] == "ligne en double : déjà présente ligne 2 du fichier"
    assert messages[(12, "date")] == "valeur obligatoire manquante"
    assert "3;nud;rejet;Numéro unique invalide" in report


def test_skip_invalid_imports_the_good_lines_only(pool):
    result, _report = run(pool, "contingent-resultats-erreurs.csv", skip_invalid=True)
    assert result.applied and result.created == 1 and result.rejected == 10
    assert PoolResult.objects.get().case == pool.first


def test_dry_run_writes_nothing(pool):
    result, _report = run(pool, "contingent-resultats.csv", dry_run=True)
    assert result.created == 2 and not PoolResult.objects.exists()
    assert result.verdict == "Simulation : rien n'a été enregistré."


def test_a_case_outside_the_territory_is_rejected(pool):
    pool.first.household.commune = commune(NANTES)
    pool.first.household.save()
    result, _report = run(pool, "contingent-resultats.csv")
    assert result.rejected == 1 and result.messages[0][3] == "aucun dossier ouvert pour ce NUD sur votre territoire"


def test_a_missing_column_refuses_the_file(pool, tmp_path):
    (tmp_path / "x.csv").write_text("nud;date\r\n08324011234500001A;02/11/2026\r\n")
    importer = ResultsImport(actor=pool.admin, reason="x", allowed_communes={TOULON})
    with (tmp_path / "x.csv").open("rb") as binary:
        result = importer.run_file(binary, "x.csv")
    assert result.file_error == (
        "Colonne(s) absente(s) du fichier pour le format contingent-resultats@1 : type, siren_reservataire."
    )


def test_the_command_imports_as_the_named_administrator(pool):
    out = io.StringIO()
    call_command("import_state_pool_results", str(SAMPLES / "contingent-resultats.csv"), user="admin-etat", stdout=out)
    assert "2 créée(s)" in out.getvalue() and "Import enregistré." in out.getvalue()
    assert PoolResult.history.filter(history_user=pool.admin).count() == 2


def test_the_page_runs_the_results_import_as_a_job(client, pool, django_capture_on_commit_callbacks):
    client.force_login(pool.admin)
    file = SimpleUploadedFile("contingent-resultats.csv", (SAMPLES / "contingent-resultats.csv").read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exchanges:state_pool"), {"file": file})
    job = ImportJob.objects.get()
    assert job.kind == JobKind.POOL_RESULTS and response["Location"] == reverse("exchanges:job", args=[job.pk])
    assert "Import enregistré." in client.get(response["Location"]).content.decode()
    assert PoolResult.objects.filter(job=job).count() == 2
    assert PoolResult.history.filter(history_change_reason=f"Import n° {job.pk} (contingent-resultats@1)").count() == 2


# --- export -----------------------------------------------------------------------------------------


def exported(response) -> list[dict]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def test_the_state_service_exports_what_it_may_see_and_each_read_is_logged(client, pool):
    protected = labelled(pool, pool.flag(pool.household(nud="08324011234500003C"), is_protected=True))
    labelled(pool, pool.flag(pool.household(nud="08324011234500004D", commune=commune(NANTES))))  # elsewhere
    pool.flag(pool.household(nud="08324011234500005E"))  # not labelled
    client.force_login(pool.commission)  # a member of the DDETS (State) sitting on the committee
    response = client.get(reverse("exchanges:state_pool_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="contingent-export-v1-')
    rows = exported(response)
    assert list(rows[0]) == POOL_EXPORT.headers
    by_nud = {r["nud"]: r for r in rows}
    # The DALO case still at the diagnostic is not in the commission's scope: the policy decides.
    assert set(by_nud) == {"08324011234500001A", "08324011234500003C"}
    first = by_nud["08324011234500001A"]
    assert (first["version_format"], first["commune_insee"], first["dalo"], first["criteres"]) == (
        "1",
        TOULON,
        "non",
        "i",
    )
    assert first["reference_dossier"] == pool.first.reference and first["labellise_le"]
    assert by_nud["08324011234500003C"]["commune_insee"] == ""  # masked: protected case
    assert by_nud["08324011234500003C"]["dossier_protege"] == "oui"
    logs = AccessLog.objects.filter(user=pool.commission, section=Section.STATE_EXPORT)
    assert sorted(logs.values_list("case_id", flat=True)) == sorted([pool.first.pk, protected.pk])


def test_the_territory_administrator_gets_no_household_data(client, pool):
    client.force_login(pool.admin)
    assert client.get(reverse("exchanges:state_pool")).status_code == 200
    rows = exported(client.get(reverse("exchanges:state_pool_export")))
    assert rows == []  # the case policy gives a territory administrator no case
    assert not AccessLog.objects.exists()


def test_the_export_command_writes_the_same_layout(pool, tmp_path):
    target = tmp_path / "export.csv"
    call_command("export_state_pool", user="commission", output=str(target), stderr=io.StringIO())
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert [r["nud"] for r in rows] == ["08324011234500001A"]


def test_other_roles_get_403(client, pool):
    for user in (
        pool.social_worker,
        pool.landlord_agent,
        member(Role.RESERVATAIRE_AGENT),  # a réservataire that is not a State service
        member(Role.COMMISSION_MEMBER, OrganisationFactory(kind=choices.OrganisationKind.EPCI), communes=[TOULON]),
    ):
        client.force_login(user)
        assert client.get(reverse("exchanges:state_pool")).status_code == 403
        assert client.get(reverse("exchanges:state_pool_export")).status_code == 403
    client.force_login(pool.commission)  # exports, but does not import
    file = SimpleUploadedFile("r.csv", (SAMPLES / "contingent-resultats.csv").read_bytes())
    assert client.post(reverse("exchanges:state_pool"), {"file": file}).status_code == 403
    assert not ImportJob.objects.exists()


def test_a_result_shows_on_the_case_timeline(client, pool):
    run(pool, "contingent-resultats.csv")
    client.force_login(pool.social_worker)
    page = client.get(reverse("audit:timeline", args=[pool.first.pk])).content.decode()
    assert "Désignation sur un contingent" in page and "Action Logement (test)" in page
    assert "Import de test" in page
