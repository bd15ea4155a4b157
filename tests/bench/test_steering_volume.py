"""The steering volume fixture (bulk SQL, PostgreSQL): its figures are those the case tables give, the
incremental refresh agrees with a full rebuild, and a second run only adds the missing cases."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from bench import steering_volume as sv
from bench.steering_check import compare
from cases.models import Case, Commune, Proposal
from steering import aggregates
from steering.models import Allocation, RollupCount, StatCount

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def territory(db):
    if connection.vendor != "postgresql":
        pytest.skip("the volume fixture is set-based PostgreSQL SQL")
    from cases.reference import load_communes

    if not Commune.objects.exists():
        load_communes(Commune)
    call_command("generate_territory", cases=60, batch=30, agenda=2, quiet=True, seed=5, stdout=StringIO())


def _snapshot():
    """The counters and their rollups."""
    return set(StatCount.objects.exclude(n=0).values_list(*StatCount.KEY_FIELDS, "n")) | set(
        RollupCount.objects.exclude(n=0).values_list(*RollupCount.KEY_FIELDS, "n")
    )


def test_volume_fixture_figures_match_the_tables(territory, tmp_path):
    path = tmp_path / "volume.json"
    out = StringIO()
    call_command("generate_steering_volume", cases=3000, batch=1000, repeat=2, dirty=200, check=True,
                 json=str(path), stdout=out, stderr=StringIO())  # fmt: skip
    result = json.loads(path.read_text())
    assert result["cases"] == sv.existing() == 3000
    assert Case.objects.count() == 3060
    assert {(p["user"], p["page"]) for p in result["pages"]} == {
        (user, page)
        for user in ("bench.commission", "bench.landlord")
        for page in ("steering dashboard", "steering quotas")
    }
    assert all(p["queries"] > 0 and p["p95_ms"] >= p["p50_ms"] > 0 for p in result["pages"])
    # Every status and every record kind the figures read is there.
    assert set(Case.objects.values_list("status", flat=True)) >= {
        "diagnostic", "committee", "proposal", "caleol", "reply", "lease", "closed"
    }  # fmt: skip
    assert Allocation.objects.filter(case__household__nud__startswith=sv.PREFIX).count() > 300
    assert Proposal.objects.filter(reply__answer="refused").exists()
    # The dashboard (read from the aggregates) equals direct counts on the case tables.
    found = compare(date.today())
    assert all(dashboard == direct for dashboard, direct in found.values()), found
    assert found["relogés"][0] > 0 and found["propositions"][0] > 0
    # The incremental refresh the command timed left the counters as a full rebuild makes them.
    after_refresh = _snapshot()
    aggregates.rebuild()
    assert _snapshot() == after_refresh


def test_a_second_run_adds_only_the_missing_cases(territory):
    call_command("generate_steering_volume", cases=500, repeat=1, no_rebuild=True, stdout=StringIO(), stderr=StringIO())
    first = set(Case.objects.values_list("pk", flat=True))
    call_command("generate_steering_volume", cases=800, repeat=1, no_rebuild=True, stdout=StringIO(), stderr=StringIO())
    assert sv.existing() == 800
    assert len(set(Case.objects.values_list("pk", flat=True)) - first) == 300


def test_the_sql_counters_equal_the_ordinary_rebuild(territory):
    from bench import steering_sql

    call_command(
        "generate_steering_volume", cases=2000, repeat=1, no_rebuild=True, stdout=StringIO(), stderr=StringIO()
    )
    aggregates.rebuild()
    ordinary = _snapshot()
    assert len(ordinary) > 1000
    assert {key[0] for key in ordinary} > {"flow", "dim", "commune+dim", "landlord_id+reservataire_id"}
    steering_sql.build_statcount()
    assert _snapshot() == ordinary
