"""The benchmark command measures every list for every role, beside the stock way, and transitions."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from bench.floor import FloorFlow
from cases.models import Case, Commune

pytestmark = pytest.mark.django_db


@pytest.fixture
def territory(db):
    from cases.reference import load_communes

    if not Commune.objects.exists():
        load_communes(Commune)
    # A short agenda: the transitions put the other cases awaiting the committee to a written procedure.
    call_command("generate_territory", cases=150, batch=50, agenda=2, quiet=True, seed=3, stdout=StringIO())


def test_benchmark_prints_and_writes_every_measure(territory, tmp_path):
    diagnostics_before = Case.objects.filter(status="diagnostic").count()
    out = StringIO()
    path = tmp_path / "run.json"
    call_command(
        "benchmark",
        repeat=2,
        transitions=3,
        kind_samples=2,
        workers=1,
        breakdown=True,
        json=str(path),
        force=True,
        stdout=out,
    )
    data = json.loads(path.read_text())
    assert data["cases"] == 150
    pages = {(s["user"], s["page"]): s for s in data["pages"]}
    for user in ("bench.ts", "bench.supervisor", "bench.commission", "bench.landlord"):
        for page in ("task inbox page", "task queue", "case list", "case list page", "case page", "case timeline"):
            sample = pages[(user, page)]
            assert sample["queries"] > 0 and 0 < sample["p50_ms"] <= sample["p95_ms"]
        assert pages[(user, "task queue")]["stock_p50_ms"] > 0  # the stock way ran on the same data
    assert pages[("bench.commission", "committee agenda")]["queries"] > 0
    # Real transitions: generated cases moved on through the services.
    assert data["transitions"]["alone"]["transitions"] == 3
    assert Case.objects.filter(status="diagnostic").count() < diagnostics_before
    # The bare viewflow floor ran on the same database, then left nothing behind.
    assert data["transitions"]["floor"]["alone"]["transitions"] == 3
    assert data["transitions"]["floor"]["alone"]["per_second"] > 0
    assert not Process.objects.filter(flow_class=FloorFlow).exists()
    # The breakdown timed three slices, each with fewer parts switched on, then put them back.
    breakdown = data["transitions"]["breakdown"]
    assert list(breakdown) == ["whole", "without notifications", "without notifications, grants, audit chain"]
    assert all(rate > 0 for rate in breakdown.values())
    from notifications.events import committee_outcome, step_opened
    from workflows.flows import grant_step

    assert step_opened.__name__ == "step_opened" and grant_step.__module__ == "permissions.grants"
    assert committee_outcome.__name__ == "committee_outcome"
    table = out.getvalue()
    assert "| bench.landlord | task queue |" in table and "transitions/s alone" in table


def test_report_compares_two_sizes(tmp_path):
    def run(cases, p95):
        sample = {"user": "bench.ts", "page": "case list", "p50_ms": 1.0, "p95_ms": p95, "queries": 3}
        return {"cases": cases, "pages": [sample | {"stock_p50_ms": 10.0, "ratio": 10.0}], "transitions": {}}

    for name, data in (("a.json", run(10_000, 2.0)), ("b.json", run(100_000, 3.0))):
        (tmp_path / name).write_text(json.dumps(data))
    out = StringIO()
    call_command("benchmark", report=[str(tmp_path / "a.json"), str(tmp_path / "b.json")], stdout=out)
    assert (
        "| bench.ts | case list | 1.0 | 2.0 | 3 | 10.0 | 10.0 | 1.0 | 3.0 | 3 | 10.0 | 10.0 | 1.50× |" in out.getvalue()
    )


def test_floor_step_moves_a_bare_process_on(db):
    from bench import floor
    from tests.factories import UserFactory

    UserFactory(username="bench.ts")
    [first] = floor.prepare(1)
    floor.complete("bench.ts", first)
    process = Task.objects.get(pk=first).process
    assert Task.objects.get(pk=first).status == STATUS.DONE
    assert process.task_set.filter(flow_task=FloorFlow.second, status=STATUS.NEW).exists()
    floor.clean()
    assert not Process.objects.filter(pk=process.pk).exists()
