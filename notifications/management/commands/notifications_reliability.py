"""Measure the outbox's reliability against a real Redis broker and real worker processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppgdid_notif \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \\
    python manage.py notifications_reliability --notifications 1000 --kills 10

Prints lost, duplicated, attempts and duration per scenario (see notifications/reliability.py).
"""

import json
import os

from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from notifications import reliability


class Command(AuditedCommand):
    help = "Banc de fiabilité des notifications (Redis et workers Celery réels, PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--scenario", action="append", choices=["kill", "crash", "poison", "cut"])
        parser.add_argument("--notifications", type=int, default=1000)
        parser.add_argument("--kills", type=int, default=10)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--retry-seconds", type=int, default=1)
        parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per scenario")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
        parser.add_argument("--keep", action="store_true", help="keep the bench's rows and e-mail files")
        parser.add_argument("--crash-producer", metavar="RUN_ID", help="internal: the process the crash test kills")

    def handle(self, *args, **options):
        if options["crash_producer"]:
            reliability.crash_producer(options["crash_producer"], int(os.environ.get("BENCH_CRASH_COUNT", "50")))
            raise CommandError("the crash producer should have been killed before its enqueue")
        try:
            results = reliability.run(
                tuple(options["scenario"] or ("kill", "crash", "poison")),
                notifications=options["notifications"],
                kills=options["kills"],
                keep=options["keep"],
                workers=options["workers"],
                concurrency=options["concurrency"],
                retry_seconds=options["retry_seconds"],
                timeout=options["timeout"],
                seed=options["seed"],
                log=lambda line: self.stderr.write(line),
            )
        except reliability.BenchError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(results, ensure_ascii=False))
            return
        for scenario, figures in results.items():
            if scenario == "run_id":
                continue
            self.stdout.write(f"[{scenario}]")
            for key, value in figures.items():
                self.stdout.write(f"  {key}: {value}")
