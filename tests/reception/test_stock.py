"""load_commune_stock (errors per line, in French, nothing half-loaded) and small-number masking."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from reception import stats
from reception.models import CommuneStock
from tests.factories import TOULON, commune

pytestmark = pytest.mark.django_db

HEADER = "code_insee;typologie;logements;logements_accessibles;attributions_12_mois;delai_median_mois;annee\n"


def write(tmp_path, text):
    path = tmp_path / "parc.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_loads_and_replaces_with_history(tmp_path, capsys):
    call_command("load_commune_stock", write(tmp_path, HEADER + "83137;T3;5120;410;388;22;2025\n83126;t2;90;;;;2025\n"))
    assert "2 ligne(s) ajoutée(s)" in capsys.readouterr().out
    row = CommuneStock.objects.get(commune_id=TOULON, typology="T3")
    assert (row.dwellings, row.accessible_dwellings, row.allocations_12_months, row.median_wait_months) == (
        5120,
        410,
        388,
        22,
    )
    call_command("load_commune_stock", write(tmp_path, "# commentaire\n" + HEADER + "83137;T3;5200;410;388;22;2026\n"))
    row.refresh_from_db()
    assert (row.dwellings, row.reference_year) == (5200, 2026)
    assert row.history.count() == 2
    assert row.history.first().history_user.username == "systeme"


def test_errors_per_line_in_french_and_nothing_loaded(tmp_path, capsys):
    text = (
        "# fichier de test\n"
        + HEADER
        + "83137;T3;5120;410;388;22;2025\n"
        + "99999;T3;10;0;;;2025\n"
        + "83137;T9;-4;;;;2025\n"
        + "83126;T2;10;20;;;1850\n"
        + "83137;T3;1;;;;2025\n"
    )
    with pytest.raises(CommandError) as error:
        call_command("load_commune_stock", write(tmp_path, text))
    assert "4 ligne(s) en erreur" in str(error.value)
    err = capsys.readouterr().err
    assert "ligne 4 : code INSEE « 99999 » inconnu" in err
    assert "ligne 5 : typologie « T9 » inconnue" in err and "« -4 » n'est pas un nombre entier positif" in err
    assert "ligne 6 :" in err and "année « 1850 » invalide" in err and "plus de logements accessibles" in err
    assert "ligne 7 : 83137 T3 figure déjà plus haut" in err
    assert not CommuneStock.objects.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "aucune ligne"),
        ("code_insee;logements\n83137;3\n", "colonne(s) manquante(s)"),
    ],
)
def test_bad_files(tmp_path, text, message):
    with pytest.raises(CommandError):
        call_command("load_commune_stock", write(tmp_path, text))


def test_missing_file_is_a_french_error():
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("load_commune_stock", "/nonexistent/parc.csv")


def test_masking_rules():
    assert stats.count(0).text == "0" and not stats.count(0).masked
    assert [stats.count(n).text for n in (1, 4)] == ["moins de 5", "moins de 5"]
    assert stats.count(5).text == "5" and stats.count(12345).text == "12\u202f345"
    # One masked cell in a column with a total: the next smallest is masked too.
    figures = stats.column([120, 3, 40, 0])
    assert [f.text for f in figures] == ["120", "moins de 5", "non communiqué", "0"]
    assert [f.text for f in stats.column([120, 3, 2, 40])] == ["120", "moins de 5", "moins de 5", "40"]
    assert stats.months(12.4, 4).masked and stats.months(12.4, 5).text == "12 mois"
    assert stats.share(3, 100).masked and stats.share(10, 40).text == "25 %" and stats.share(0, None).text


def test_commune_figures_mix_reference_table_and_priority_allocations(world):
    from tests.workflows import steps

    CommuneStock.objects.create(
        commune=commune(TOULON), typology="T3", dwellings=500, accessible_dwellings=3, allocations_12_months=40,
        median_wait_months=22, reference_year=2025,
    )  # fmt: skip
    case = steps.allocate(world, steps.propose(world, steps.label(world, steps.diagnose(world, world.flag()))))
    steps.sign(world, steps.accept(world, case))  # lease signed on 20/11/2026
    figures = stats.commune_figures(commune(TOULON), today=date(2026, 12, 1))
    (row,) = figures.rows
    assert (row.dwellings.text, row.accessible.text, row.allocations.text) == ("500", "moins de 5", "40")
    assert row.priority_allocations.text == "moins de 5"  # one household: never shown as a number
    assert row.median_wait_priority.masked and figures.median_wait_priority.masked
    assert figures.priority_share.masked
    later = stats.commune_figures(commune(TOULON), today=date(2027, 12, 1))
    assert later.total_priority.text == "0"  # out of the 12 months


def test_commune_page_is_public_and_masks(client, world):
    CommuneStock.objects.create(
        commune=commune(TOULON), typology="T2", dwellings=2, accessible_dwellings=0, reference_year=2025
    )
    response = client.get(f"/accueil/communes/{TOULON}/")
    assert response.status_code == 200
    assert "moins de 5" in response.content.decode()
    assert client.get("/accueil/communes/00000/").status_code == 404
    assert client.get("/accueil/communes/<script>/").status_code == 404
