"""Application import: creation, idempotence, conflicts, every rejection, all or nothing."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections

from audit.chain import verify_chain
from audit.models import GLOBAL_CHAIN, AuditEntry
from cases.audit import acting_as
from cases.models import Household, HouseholdMember
from exchanges import mappings
from exchanges.applications import Importer
from exchanges.files import Report
from tests.factories import HouseholdFactory, UserFactory

SAMPLES = Path(__file__).with_name("samples")
NUD_1, NUD_2 = "08324011234500001A", "08324011234500002B"

pytestmark = pytest.mark.django_db


def run(content: bytes | Path, name="f.csv", mapping="registre", report=None, **options):
    if isinstance(content, Path):
        name, content = content.name, content.read_bytes()
    importer = Importer(mappings.get(mapping), reason="Import de test", report=report, **options)
    return importer.run_file(io.BytesIO(content), name)


def sample(replace=()) -> bytes:
    text = (SAMPLES / "registre.csv").read_text(encoding="utf-8")
    for old, new in replace:
        assert old in text
        text = text.replace(old, new)
    return text.encode()


def test_creates_households_and_members_with_history_and_reason():
    result = run(SAMPLES / "registre.csv")
    assert (result.created, result.rejected, result.applied) == (3, 0, True)
    household = Household.objects.get(nud=NUD_2)
    assert household.commune_id == "83126" and household.housing_situation == "shelter"
    assert household.monthly_rsa == Decimal("607.75") and household.tax_income_n2 is None
    assert sorted(household.members.values_list("relationship", flat=True)) == ["child", "spouse"]
    first = Household.objects.get(nud=NUD_1)
    assert first.monthly_wages == Decimal("1234.56") and first.tax_income_n2 == Decimal("12500.00")
    rows = Household.history.filter(nud=NUD_1)
    assert [r.history_change_reason for r in rows] == ["Import de test"]
    assert AuditEntry.objects.filter(source="cases.historicalhousehold", source_id=str(rows[0].history_id)).exists()


def test_same_file_twice_changes_nothing_and_says_so():
    run(SAMPLES / "registre.csv")
    before = Household.history.count(), HouseholdMember.history.count(), AuditEntry.objects.count()
    result = run(SAMPLES / "registre.csv")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert result.verdict == "Aucun changement : ce fichier a déjà été importé tel quel."
    assert (Household.history.count(), HouseholdMember.history.count(), AuditEntry.objects.count()) == before


def test_the_xlsx_export_reads_as_the_csv():
    run(SAMPLES / "registre.csv")
    result = run(SAMPLES / "registre.xlsx")
    assert (result.lines, result.unchanged, result.rejected) == (3, 3, 0)


def test_other_mapping_reads_its_own_columns():
    result = run(SAMPLES / "fichier-partage.csv", mapping="fichier-partage")
    assert (result.created, result.rejected) == (2, 0)
    assert Household.objects.get(nud="04424025432100031D").members.get().relationship == "child"


def test_file_change_updates_a_value_nobody_touched():
    run(SAMPLES / "registre.csv")
    result = run(sample([("1 234,56", "1 400,00")]))
    assert (result.updated, result.unchanged, result.conflicts) == (1, 2, 0)
    assert Household.objects.get(nud=NUD_1).monthly_wages == Decimal("1400.00")
    assert Household.history.filter(nud=NUD_1).first().history_change_reason == "Import de test"


def test_a_value_changed_by_a_social_worker_is_kept_and_listed():
    run(SAMPLES / "registre.csv")
    household = Household.objects.get(nud=NUD_1)
    with acting_as(UserFactory(), "Mise à jour par le travailleur social"):
        household.phone = "0611111111"
        household.save()
    report = io.StringIO()
    result = run(sample([("0600000001", "0622222222"), ("1 234,56", "1 400,00")]), report=Report(report))
    household.refresh_from_db()
    assert household.phone == "0611111111"  # kept
    assert household.monthly_wages == Decimal("1400.00")  # the untouched field follows the file
    assert (result.updated, result.conflicts) == (1, 1)
    assert result.messages == [
        (
            2,
            "Téléphone",
            "conflit",
            "valeur modifiée dans l'application depuis le dernier import : celle du fichier n'a pas été reprise",
        )
    ]
    assert "2;Téléphone;conflit;" in report.getvalue()


def test_a_household_typed_by_hand_before_any_import_is_not_overwritten():
    HouseholdFactory(nud=NUD_1, phone="0699999999")
    result = run(SAMPLES / "registre.csv")
    assert Household.objects.get(nud=NUD_1).phone == "0699999999"
    assert result.conflicts >= 1 and result.created == 2


def test_members_follow_the_file():
    run(SAMPLES / "registre.csv")
    result = run(sample([("Noé;Fictif-Durand;Enfant;30/04/2019", ";;;")]))
    assert result.updated == 1
    assert list(Household.objects.get(nud=NUD_2).members.values_list("first_name", flat=True)) == ["Inès"]
    assert HouseholdMember.history.filter(history_type="-", first_name="Noé").exists()


EXPECTED_REJECTIONS = [
    (2, "NUD", "Numéro unique invalide : 18 caractères attendus"),
    (3, "Code INSEE commune", "commune inconnue : code INSEE « 99999 » absent du référentiel"),
    (4, "Date de naissance", "date impossible ou illisible (attendu JJ/MM/AAAA"),
    (5, "Salaires mensuels", "montant négatif : un revenu ne peut pas être inférieur à 0"),
    (6, "Date de naissance", "date impossible : elle est dans le futur"),
    (7, "Depuis le", "date impossible : antérieure à la date de naissance"),
    (8, "Situation de logement", "valeur inconnue ; valeurs admises : Sans abri"),
    (9, "Nom", "valeur obligatoire manquante"),
    (10, "Membre 1 lien", "valeur inconnue ; valeurs admises : Demandeur"),
    (12, "NUD", "NUD déjà présent ligne 11 du fichier"),
    (13, "Salaires mensuels", "montant illisible (exemple attendu : 1 234,56)"),
]


def test_every_rejection_has_its_french_message_line_and_column():
    report = io.StringIO()
    result = run(SAMPLES / "registre-erreurs.csv", report=Report(report))
    got = sorted((line, column, message) for line, column, kind, message in result.messages)
    assert len(got) == len(EXPECTED_REJECTIONS)
    for (line, column, message), (e_line, e_column, e_start) in zip(got, EXPECTED_REJECTIONS, strict=True):
        assert (line, column) == (e_line, e_column)
        assert message.startswith(e_start)
    assert report.getvalue().splitlines()[0] == "ligne;colonne;type;message"
    assert len(report.getvalue().splitlines()) == 1 + len(EXPECTED_REJECTIONS)


def test_a_file_with_bad_lines_imports_nothing():
    result = run(SAMPLES / "registre-erreurs.csv")
    assert result.rejected == 11 and not result.applied
    assert "rien n'a été importé" in result.verdict
    assert not Household.objects.exists()


def test_skip_invalid_imports_the_good_lines_only():
    result = run(SAMPLES / "registre-erreurs.csv", skip_invalid=True)
    assert result.applied and result.created == 1
    assert list(Household.objects.values_list("applicant_last_name", flat=True)) == ["Fictif-Valide"]


def test_dry_run_writes_nothing():
    result = run(SAMPLES / "registre.csv", dry_run=True)
    assert result.created == 3 and not result.applied
    assert not Household.objects.exists() and not Household.history.exists()


def test_a_missing_required_column_rejects_the_file():
    text = (SAMPLES / "registre.csv").read_text(encoding="utf-8").replace("Situation de logement", "Logement")
    result = run(text.encode())
    assert result.file_error.startswith("Colonne(s) absente(s) du fichier pour le modèle registre@1 : Situation")
    assert not Household.objects.exists()


def test_windows_1252_csv_is_read():
    result = run((SAMPLES / "registre.csv").read_text(encoding="utf-8").encode("cp1252"))
    assert result.created == 3
    assert Household.objects.get(nud=NUD_1).members.get().first_name == "Léo"


def test_command_prints_counts_and_writes_the_report(tmp_path, capsys):
    report = tmp_path / "rapport.csv"
    out = io.StringIO()
    call_command(
        "import_applications",
        str(SAMPLES / "registre-erreurs.csv"),
        "--mapping",
        "registre",
        "--skip-invalid",
        "--report",
        str(report),
        stdout=out,
    )
    text = out.getvalue()
    assert "12 ligne(s) lue(s) avec le modèle registre@1 : 1 créée(s)" in text
    assert "ligne 3, colonne « Code INSEE commune » (rejet)" in text
    assert report.read_text(encoding="utf-8").count("\n") == 12
    out = io.StringIO()
    call_command("import_applications", str(SAMPLES / "registre-erreurs.csv"), "--skip-invalid", stdout=out)
    assert "0 créée(s)" in out.getvalue() and "1 inchangée(s)" in out.getvalue()


def test_command_refuses_an_unknown_mapping():
    with pytest.raises(CommandError, match="Modèle de colonnes inconnu : « inconnu »"):
        call_command("import_applications", str(SAMPLES / "registre.csv"), "--mapping", "inconnu")


def test_the_audit_chain_stays_whole_after_imports():
    run(SAMPLES / "registre.csv")
    run(sample([("1 234,56", "1 400,00"), ("Noé;Fictif-Durand;Enfant;30/04/2019", ";;;")]))
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "0 rompue(s)" in out.getvalue()


# --- speed: a fixed number of queries per batch, unchanged lines not read again ------------------


def generated(tmp_path, lines: int, name="gen.csv", first=0) -> Path:
    from cases.models import Commune
    from exchanges.management.commands.bench_import_applications import write_sample

    path = tmp_path / name
    write_sample(path, lines, list(Commune.objects.values_list("pk", flat=True)[:5]), first=first)
    return path


def queries_of(path: Path, **options) -> tuple[list[str], object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = run(path, **options)
    return [q["sql"] for q in captured.captured_queries], result


def test_queries_do_not_grow_with_the_lines(tmp_path):
    few, result_few = queries_of(generated(tmp_path, 40, "few.csv"))
    many, result_many = queries_of(generated(tmp_path, 400, "many.csv", first=1000))
    assert (result_few.created, result_many.created) == (40, 400)
    # One query per line (or per household) would add 360; bulk inserts split by the database's
    # parameter limit (SQLite) add a few.
    assert len(many) - len(few) < 360 / 5


def test_unchanged_lines_are_not_read_again(tmp_path):
    path = generated(tmp_path, 300)
    first, _result = queries_of(path)
    again, result = queries_of(path)
    assert (result.unchanged, result.created, result.updated) == (300, 0, 0)
    assert not [sql for sql in again if 'FROM "cases_household"' in sql]  # digests compared only
    assert len(again) < len(first) / 4


def test_a_duplicate_of_an_unchanged_line_in_a_later_batch_is_rejected(monkeypatch):
    import exchanges.applications as applications

    run(SAMPLES / "registre.csv")
    monkeypatch.setattr(applications, "BATCH", 1)  # each line its own batch
    text = (SAMPLES / "registre.csv").read_text(encoding="utf-8")
    header, first, *rest = text.splitlines()
    result = run("\n".join([header, first, *rest, first]).encode())
    assert (result.unchanged, result.rejected, result.applied) == (3, 1, False)
    assert result.messages == [(5, "NUD", "rejet", "NUD déjà présent ligne 2 du fichier")]


def test_benchmark_prints_speed_load_and_memory():
    out = io.StringIO()
    call_command("bench_import_applications", "--lines", "30", "--again", stdout=out)
    text = out.getvalue()
    assert "30 lignes (" in text and "lignes/s ; 30 créées" in text
    assert "30 inchangées" in text  # the second import of the same file
    assert "Charge de la machine avant : " in text and "Mémoire résidente : pic " in text
    assert not Household.objects.exists()  # rolled back


def test_an_unchanged_line_whose_household_lost_its_nud_is_imported_again():
    run(SAMPLES / "registre.csv")
    household = Household.objects.get(nud=NUD_1)
    with acting_as(UserFactory(), "Anonymisation (test)"):
        household.nud = "08324019999900001A"  # as anonymisation does
        household.save()
    result = run(SAMPLES / "registre.csv")
    assert (result.created, result.unchanged) == (1, 2)
    assert Household.objects.filter(nud=NUD_1).exclude(pk=household.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_leaves_the_global_audit_chain_free_until_its_end(monkeypatch):
    """The households of a file have no case yet: their history joins the global chain, which every writer
    of rows outside a case shares. While the import runs, another connection can still take its head."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    import exchanges.applications as applications
    from cases.models import Commune
    from cases.reference import load_communes

    if not Commune.objects.exists():  # an earlier transactional test flushed the migration-loaded communes
        load_communes(Commune)
    with acting_as(UserFactory(), "Préparation du test"):
        HouseholdFactory()  # the global chain's head exists and is committed
    monkeypatch.setattr(applications, "BATCH", 1)  # each line its own batch, then the progress callback
    free_during_import = []

    def probe(lines):
        other = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(f"SELECT 1 FROM audit_auditchainhead WHERE chain = '{GLOBAL_CHAIN}' FOR UPDATE NOWAIT")
                free_during_import.append(cursor.fetchone() is not None)
                cursor.execute("ROLLBACK")
        except OperationalError:  # LockNotAvailable
            free_during_import.append(False)
        finally:
            other.close()

    result = run(SAMPLES / "registre.csv", progress=probe)
    assert result.created == 3 and result.applied
    assert free_during_import and all(free_during_import)
    assert verify_chain(GLOBAL_CHAIN) is None
    entries = AuditEntry.objects.filter(
        source="cases.historicalhousehold",
        source_id__in=[str(i) for i in Household.history.values_list("history_id", flat=True)],
    )
    assert entries.count() == Household.history.count() == 4  # the factory's household and the file's three
