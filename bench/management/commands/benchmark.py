"""Measure lists, pages and transitions on a generated territory, beside the stock viewflow/guardian way.

    manage.py generate_territory --cases 100000
    manage.py benchmark --json bench-100k.json
    manage.py benchmark --report bench-10k.json bench-100k.json     # the README table, growth included

`bash bin/benchmark` runs both sizes on fresh PostgreSQL databases and prints the table. The
transitions move generated cases on (diagnostics, committee reviews): run it on a benchmark
database only.
"""

import json
import os
import platform
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

from audit.commands import AuditedCommand
from bench import floor, measure
from cases.models import Case


class Command(AuditedCommand):
    audit_reason = "Banc d'essai (benchmark)"
    help = "p50/p95 server time and queries per page per role, stock comparison, transitions per second."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=100, help="runs per page (p50/p95 over them)")
        parser.add_argument("--transitions", type=int, default=200, help="steps completed per measure")
        parser.add_argument("--workers", type=int, default=4, help="concurrent processes for the second measure")
        parser.add_argument(
            "--kind-samples", type=int, default=10, help="transitions timed per step kind (queries and floor ratio)"
        )
        parser.add_argument("--no-stock", action="store_true", help="skip the stock viewflow/guardian lists")
        parser.add_argument(
            "--breakdown",
            action="store_true",
            help="also time transitions with the notifications, then the grants and audit chain, switched off",
        )
        parser.add_argument("--json", help="write the figures to this file")
        parser.add_argument("--report", nargs="+", metavar="JSON", help="only print the table of earlier runs")
        parser.add_argument("--force", action="store_true", help="run even if the database name looks real")

    def handle(self, *args, **options):
        if options["report"]:
            self.stdout.write(table([json.loads(Path(p).read_text()) for p in options["report"]]))
            return
        name = str(connection.settings_dict["NAME"])
        if not options["force"] and "bench" not in name and "test" not in name:
            raise CommandError(f"Database {name!r} does not look like a benchmark database (use --force).")
        if settings.DEBUG:
            self.stderr.write("DEBUG is on (DJANGO_DEBUG): every query is logged, pages are slower than in production.")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # plans on current statistics, as autovacuum keeps them
        report = measure.Report(cases=Case.objects.count())
        self.stdout.write(f"{report.cases} cases on {connection.vendor} ({name})")
        report.pages = measure.measure_pages(options["repeat"], not options["no_stock"], log=self.stdout.write)
        work = measure.transition_work(options["transitions"] * 2)
        half = len(work) // 2
        report.transitions = {
            "alone": measure.transitions_per_second(work[:half], 1),
            "concurrent": measure.transitions_per_second(work[half:], options["workers"]),
        }
        floor_steps = [("bench.ts", pk) for pk in floor.prepare(len(work))]
        try:
            report.transitions["floor"] = {
                "alone": measure.transitions_per_second(floor_steps[:half], 1, do=floor.complete),
                "concurrent": measure.transitions_per_second(floor_steps[half:], options["workers"], do=floor.complete),
            }
        finally:
            floor.clean()
        if options["breakdown"]:
            # Steps still open: those above are done.
            report.transitions["breakdown"] = measure.transition_breakdown(
                measure.transition_work(options["transitions"] * 3)
            )
        self.stdout.write("  one transition per step kind (queries include BEGIN and COMMIT):")
        report.kinds = measure.measure_kinds(options["kind_samples"], log=self.stdout.write)
        self.stdout.write(f"  transitions: {report.transitions}")
        data = report.as_json() | {"machine": machine()}
        if options["json"]:
            Path(options["json"]).write_text(json.dumps(data, indent=2, ensure_ascii=False))
        self.stdout.write(table([data]))


def machine() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        database = cursor.fetchone()[0].split(" on ")[0]
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "database": database}


def table(runs: list[dict]) -> str:
    """A Markdown table: one row per (user, page), one column group per run (size), growth of p95."""
    runs = sorted(runs, key=lambda r: r["cases"])
    head = ["user", "page"]
    for run in runs:
        size = f"{run['cases']:,}"
        head += [f"p50 ms ({size})", f"p95 ms ({size})", f"queries ({size})", f"stock p50 ms ({size})", "× faster"]
    if len(runs) > 1:
        head.append("p95 growth")
    rows = {}
    for i, run in enumerate(runs):
        for s in run["pages"]:
            cells = rows.setdefault((s["user"], s["page"]), [""] * (5 * len(runs)))
            stock = s.get("stock_p50_ms")
            cells[5 * i : 5 * i + 5] = [
                s["p50_ms"], s["p95_ms"], s["queries"], stock if stock is not None else "", s.get("ratio") or "",
            ]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (user, page), cells in rows.items():
        extra = []
        if len(runs) > 1:
            first, last = cells[1], cells[-4]
            extra = [f"{last / first:.2f}×" if first and last else ""]
        lines.append("| " + " | ".join(str(c) for c in [user, page, *cells, *extra]) + " |")
    lines.append("")
    for run in runs:
        t = run.get("transitions", {})
        alone, together = t.get("alone", {}), t.get("concurrent", {})
        bare = t.get("floor", {})
        lines.append(
            f"- {run['cases']:,} cases: {alone.get('per_second')} transitions/s alone, "
            f"{together.get('per_second')} with {together.get('workers')} workers; "
            f"bare stock viewflow (bench/floor.py) {bare.get('alone', {}).get('per_second')} alone, "
            f"{bare.get('concurrent', {}).get('per_second')} with {bare.get('concurrent', {}).get('workers')} workers "
            f"({run.get('machine', {}).get('cpus')} CPUs, {run.get('machine', {}).get('database')})"
        )
        if t.get("breakdown"):
            parts = "; ".join(f"{name} {rate}" for name, rate in t["breakdown"].items())
            lines.append(f"  - transitions/s alone, {parts}")
        ratio = run.get("floor_ratio", {})
        if ratio:
            lines.append(
                f"  - floor ratio (our transition time ÷ bare viewflow's, same run): {ratio.get('alone')} alone, "
                f"{ratio.get('concurrent')} with {together.get('workers')} workers (floor {ratio.get('floor_ms')} ms)"
            )
        kinds = run.get("transition_kinds", {})
        if kinds:
            per_kind = ratio.get("per_kind", {})
            parts = "; ".join(
                f"{kind} {f['queries']} queries, {f['p50_ms']} ms ({per_kind.get(kind)}× floor)"
                for kind, f in kinds.items()
            )
            lines.append(f"  - per step kind: {parts}")
    return "\n".join(lines) + "\n"
