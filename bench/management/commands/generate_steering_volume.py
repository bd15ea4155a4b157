"""Steering dashboard at volume (issue 20, part 5): bulk cases, full rebuild, page timings.

    manage.py generate_steering_volume --cases 1000000 [--repeat 30] [--check] [--json out.json]

BENCHMARK DATA ONLY, PostgreSQL only. The cases are written by set-based SQL (bench/steering_volume.py),
bypassing the services: no workflow, no grants, no history or audit entries; a volume fixture, not
business writes. On an empty database the reference territory (organisations, accounts, the benchmark
users and 1,000 ordinary cases) is built first by generate_territory. `--cases` is the number of fixture
cases wanted in total: a second run adds only the missing ones (10,000, then 100,000, then 1,000,000).

Then: the full rebuild of the aggregates (steering.aggregates.rebuild, what `steering_backfill` runs),
the incremental refresh (one case, as at a lease or a closing, and 1,000 dirty cases, as the beat task),
and the server time of the dashboard and quota pages (bench.measure: p50/p95, queries) for a territory
view (bench.commission) and a landlord (bench.landlord). `--check` compares the dashboard's figures with
counts taken directly from the case tables (a scan: for small sizes).
"""

import json
import multiprocessing
import os
import statistics
import time
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.commands import AuditedCommand
from bench import measure
from bench import steering_volume as sv
from cases.models import Organisation
from steering import aggregates
from steering.models import CaseContribution, RollupCount, StatCount

STEERING_PAGES = (("steering dashboard", "steering:dashboard"), ("steering quotas", "steering:quotas"))


def _refresh_chunk(ids) -> int:
    """A rebuild worker (forked): the ordinary per-case refresh on its own connection."""
    aggregates.refresh_cases(ids)
    connection.close()
    return len(ids)


def rebuild(workers: int, progress) -> None:
    """aggregates.rebuild, the batches shared by `workers` processes (same per-case refresh; the counters
    are upserted in key order, so concurrent batches wait on each other but never deadlock)."""
    if workers <= 1:
        aggregates.rebuild(progress=progress)
        return
    aggregates.clear()
    from cases.models import Case

    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    chunks = [ids[i : i + 10 * aggregates.BATCH] for i in range(0, len(ids), 10 * aggregates.BATCH)]
    connections.close_all()  # the forked workers open their own
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for done in pool.imap_unordered(_refresh_chunk, chunks):
            progress(done)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Command(AuditedCommand):
    help = "Données de volume pour le pilotage (SQL en masse), recalcul des agrégats et mesure des pages."
    audit_reason = "Données de mesure du pilotage (generate_steering_volume)"

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, required=True, help="dossiers de volume voulus au total")
        parser.add_argument("--batch", type=int, default=100_000, help="dossiers par transaction")
        parser.add_argument("--repeat", type=int, default=30, help="mesures par page")
        parser.add_argument("--dirty", type=int, default=1000, help="dossiers marqués à recalculer (tâche beat)")
        parser.add_argument("--workers", type=int, default=1, help="processus du recalcul complet")
        parser.add_argument(
            "--sql-aggregates",
            action="store_true",
            help="compteurs calculés en une requête SQL (à 1 000 000, le recalcul par dossier prend des heures)",
        )
        parser.add_argument("--no-rebuild", action="store_true", help="sans recalcul complet des agrégats")
        parser.add_argument("--check", action="store_true", help="compare le tableau de bord aux tables")
        parser.add_argument("--json", help="écrit les mesures dans ce fichier")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("PostgreSQL seulement (generate_series, hashint8).")
        result = {
            "workers": options["workers"],
            "date": f"{timezone.now():%Y-%m-%d %H:%M} UTC",
            "load_before": load(),
            "cpus": os.cpu_count(),
        }
        started = time.monotonic()
        if not get_user_model().objects.filter(username="bench.commission").exists():
            call_command("generate_territory", cases=1000, quiet=True, stdout=self.stdout)
        result["setup_s"] = round(time.monotonic() - started, 1)

        have, want = sv.existing(), options["cases"]
        ref = sv.reference()
        national = Organisation.objects.get(name="Bailleur national Exemple (ESH fictive)").pk
        started = time.monotonic()
        if want > have:

            def progress(done):
                self.stderr.write(f"\rDossiers de volume : {done}/{want}", ending="")

            sv.generate(have + 1, want, ref, national, batch=options["batch"], log=progress)
            self.stderr.write("")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        result["generated"] = max(0, want - have)
        result["generation_s"] = round(time.monotonic() - started, 1)
        result["cases"] = sv.existing()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_case")
            result["cases_total"] = cursor.fetchone()[0]
        self.stdout.write(
            f"{result['generated']} dossier(s) écrit(s) en {result['generation_s']} s "
            f"({result['cases']} dossiers de volume, {result['cases_total']} en tout)."
        )

        if not options["no_rebuild"]:
            started = time.monotonic()
            seen = 0

            def progress(count):
                nonlocal seen
                seen += count
                if seen % 10000 < count or seen == result["cases_total"]:
                    self.stderr.write(f"Agrégats : {seen}/{result['cases_total']} ({time.monotonic() - started:.0f} s)")

            if options["sql_aggregates"]:
                from bench import steering_sql

                steering_sql.build_statcount()
                result["rebuild"] = "sql (bench/steering_sql.py)"
            else:
                rebuild(options["workers"], progress)
                result["rebuild"] = f"steering.aggregates, {options['workers']} process(es)"
            result["rebuild_s"] = round(time.monotonic() - started, 1)
            with connection.cursor() as cursor:
                cursor.execute(
                    "ANALYZE steering_statcount; ANALYZE steering_rollupcount; ANALYZE steering_casecontribution"
                )
            self.stdout.write(f"Recalcul complet des agrégats ({result['rebuild']}) : {result['rebuild_s']} s.")
        result.update(self.refresh_times(options["dirty"], options["sql_aggregates"]))
        self.stdout.write(
            f"Rafraîchissement incrémental : 1 dossier {result['refresh_one_ms']} ms, "
            f"{options['dirty']} dossiers marqués {result['refresh_dirty_s']} s."
        )
        result["statcount_rows"] = StatCount.objects.count()
        result["rollupcount_rows"] = RollupCount.objects.count()
        result["pages"] = self.measure_pages(options["repeat"])
        result["load_after"] = load()
        self.stdout.write(
            f"Charge moyenne (1, 5, 15 min) : avant {result['load_before']}, après {result['load_after']}"
        )
        if options["check"]:
            result["check"] = self.check_figures()
        if options["json"]:
            with open(options["json"], "w") as f:
                json.dump(result, f, indent=2, ensure_ascii=False)

    def refresh_times(self, dirty: int, sql_aggregates: bool) -> dict:
        from cases.models import Case

        ids = list(Case.objects.order_by("-pk").values_list("pk", flat=True)[: max(1, dirty)])
        if sql_aggregates:  # the counters hold these cases' keys: store them as last applied
            from bench import steering_sql

            CaseContribution.objects.filter(case_id__in=ids).delete()
            steering_sql.contributions_for(ids)
        started = time.perf_counter()
        aggregates.refresh_cases(ids[:1])  # what a lease or a closing runs at commit
        one = (time.perf_counter() - started) * 1000
        CaseContribution.objects.filter(case_id__in=ids).update(dirty=True)
        started = time.perf_counter()
        aggregates.refresh_dirty()  # what the beat task runs every 5 minutes
        return {"refresh_one_ms": round(one, 1), "refresh_dirty_s": round(time.perf_counter() - started, 2)}

    def measure_pages(self, repeat: int) -> list:
        users = {u.username: u for u in get_user_model().objects.filter(username__in=measure.STEERING_USERS)}
        query = f"?debut={timezone.localdate():%Y}-01"
        runs = []
        for name in measure.STEERING_USERS:
            client = Client(HTTP_HOST="localhost")
            client.force_login(users[name])
            for page, url in STEERING_PAGES:
                runs.append((name, page, measure._get(client, reverse(url) + query)))
        import logging

        logging.disable(logging.WARNING)
        try:
            timed = measure._interleaved([fn for _n, _p, fn in runs], repeat)
        finally:
            logging.disable(logging.NOTSET)
        out = []
        for (name, page, _fn), (times, queries) in zip(runs, timed, strict=True):
            p50, p95 = round(statistics.median(times), 1), round(measure.percentile(times, 0.95), 1)
            self.stdout.write(f"  {name:18} {page:20} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  {queries} q")
            out.append({"user": name, "page": page, "p50_ms": p50, "p95_ms": p95, "queries": queries, "runs": repeat})
        return out

    def check_figures(self) -> dict:
        """The dashboard's figures against the case tables, counted directly (a scan)."""
        from bench.steering_check import compare

        found = compare(date.today())
        for key, (dashboard, direct) in found.items():
            self.stdout.write(f"  {'OK' if dashboard == direct else 'ÉCART'} {key}: {dashboard} / {direct}")
        if any(a != b for a, b in found.values()):
            raise CommandError("Les chiffres du tableau de bord diffèrent des tables.")
        return {k: v[0] for k, v in found.items()}
