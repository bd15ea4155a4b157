"""The rollups (RollupCount) are StatCount summed per grain, after incremental refreshes and after a
rebuild; the territory and landlord views read them, and their figures stay those of the fine counters."""

from dataclasses import replace

from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from cases import choices
from cases.models import Case, Commune
from permissions.roles import Role
from steering import aggregates, figures
from steering.models import RollupCount, StatCount
from tests.factories import member

from .builders import EPCI_TPM
from .test_figures import TODAY, YEAR_2026, tables_of


def summed_per_grain() -> dict:
    """StatCount grouped by the ORM on each grain's kept fields (not through aggregates.rollup)."""
    found = {}
    for kept, metrics in aggregates.GRAINS:
        group = [f for f in StatCount.KEY_FIELDS if f not in aggregates.ROLLABLE or f in kept]
        rows = StatCount.objects.filter(metric__in=metrics).values(*group).annotate(total=Sum("n")).order_by()
        for row in rows:
            if row["total"]:
                key = tuple(row.get(f, aggregates.ROLLABLE.get(f)) for f in StatCount.KEY_FIELDS)
                found[(aggregates.grain_name(kept), *key)] = row["total"]
    return found


def rollups() -> dict:
    rows = RollupCount.objects.exclude(n=0).values_list(*RollupCount.KEY_FIELDS, "n")
    return {row[:-1]: row[-1] for row in rows}


def test_rollups_equal_the_counters_summed_after_refreshes_and_rebuild(territory):
    assert rollups() == summed_per_grain()
    assert {key[0] for key in rollups()} == {aggregates.grain_name(kept) for kept, _m in aggregates.GRAINS}
    # An incremental refresh (the beat task) moves the rollups with the counters.
    case = Case.objects.filter(status=choices.CaseStatus.DIAGNOSTIC).first()
    case.status = choices.CaseStatus.CLOSED
    case.closure_reason = choices.ClosureReason.WITHDRAWN
    case.closed_at = case.created_at
    case.save()
    assert aggregates.refresh_dirty() == 1
    incremental = rollups()
    assert incremental == summed_per_grain()
    assert incremental[("dim", "flow", "2026-01", EPCI_TPM, "83", "", 0, 0, "closed", "withdrawn")] == 1
    # The full rebuild gives the same rollups.
    aggregates.rebuild()
    assert rollups() == incremental == summed_per_grain()


def test_a_whole_epci_reads_the_rollups_without_commune(territory):
    world = territory.world
    every = list(Commune.objects.filter(epci_siren=EPCI_TPM).values_list("insee_code", flat=True))
    assert len(every) > 2
    whole = member(Role.TERRITORY_ADMIN, world.state, communes=every, username="admin-tpm")
    scope = figures.scope_for(whole)
    assert scope.epci_q is not None and figures.scope_for(territory.admin).epci_q is None  # 2 of its communes
    with CaptureQueriesContext(connection) as seen:
        figures.dashboard(scope, YEAR_2026, today=TODAY)
    sql = " ".join(q["sql"] for q in seen.captured_queries)
    assert "steering_rollupcount" in sql and "'dim'" in sql
    # Every case of the hand-counted territory is in Toulon: the whole EPCI shows the same figures,
    # and so does the same scope read from the fine counters only (no rollup keeps a field "none").
    assert tables_of(whole) == tables_of(territory.admin)
    fine = replace(scope, epci_q=None, fields=frozenset({"commune", "none"}))
    assert figures.dashboard(fine, YEAR_2026, today=TODAY) == figures.dashboard(scope, YEAR_2026, today=TODAY)
    assert figures.quotas(fine, YEAR_2026, EPCI_TPM) == figures.quotas(scope, YEAR_2026, EPCI_TPM)


def test_a_landlord_reads_the_rollups(territory):
    scope = figures.scope_for(territory.world.landlord_agent)
    with CaptureQueriesContext(connection) as seen:
        data = figures.dashboard(scope, YEAR_2026, today=TODAY)
        quotas = figures.quotas(scope, YEAR_2026, EPCI_TPM)
    reads = [q["sql"] for q in seen.captured_queries if "steering_" in q["sql"] and "SUM(" in q["sql"].upper()]
    assert reads and not any("steering_statcount" in sql and "'delay'" not in sql for sql in reads)
    fine = replace(scope, fields=frozenset({"landlord_id", "none"}))
    assert figures.dashboard(fine, YEAR_2026, today=TODAY) == data
    assert figures.quotas(fine, YEAR_2026, EPCI_TPM) == quotas


def test_rollups_summed_again_from_the_counters(territory):
    from io import StringIO

    from django.core.management import call_command

    before = rollups()
    RollupCount.objects.all().delete()
    call_command("steering_backfill", rollups=True, stdout=StringIO())
    assert rollups() == before == summed_per_grain()
