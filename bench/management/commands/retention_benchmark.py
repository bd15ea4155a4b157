"""The anonymisation rate on a generated territory (issue 22): cases per second of apply_retention.

    python manage.py generate_territory --cases 100000
    python manage.py retention_benchmark --cases 2000      # the first 2,000 due cases, every rule

Every closed case is made due by running the rules at a date 25 months ahead (the defaults are 24 months
after closure; nothing is written to the rules). The first --cases due cases (0: all) get every rule of
privacy.services.plan, in its batches, exactly as apply_retention does; the command prints the cases per
second, the rows rewritten and the chains of a sample of those cases verified afterwards. It writes:
a generated database only.
"""

import random
import time

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.utils import timezone

from audit.chain import verify_chain
from audit.commands import AuditedCommand
from audit.models import chain_key
from cases.models import Case
from privacy.services import BATCH, anonymise_cases, plan, rule_name


class Command(AuditedCommand):
    help = "Mesure le débit de l'anonymisation (dossiers par seconde) sur un territoire généré."
    audit_reason = "Mesure de l'anonymisation (base générée)"

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=2000, help="Dossiers à anonymiser (0 : tous).")

    def handle(self, *args, cases=2000, **options):
        now = timezone.now() + relativedelta(months=25)
        total_cases = Case.objects.count()
        lines = plan(now)
        due = sorted({pk for line in lines for pk in line.case_ids})
        chosen = set(due[:cases] if cases else due)
        self.stdout.write(
            f"{total_cases} dossiers, {len(due)} clos à anonymiser ; mesure sur {len(chosen)} "
            f"({len(lines)} règles, lots de {BATCH})"
        )
        counts = {"live": 0, "history": 0, "documents": 0}
        start = time.perf_counter()
        for line in lines:
            ids = [pk for pk in line.case_ids if pk in chosen]
            for first in range(0, len(ids), BATCH):
                done = anonymise_cases(ids[first : first + BATCH], line.category, rule_name(line), now=now)
                for key, value in done.items():
                    counts[key] += value
        elapsed = time.perf_counter() - start
        self.stdout.write(
            f"{len(chosen)} dossiers anonymisés (toutes les règles) en {elapsed:.1f} s : "
            f"{len(chosen) / elapsed:.2f} dossiers par seconde ; {counts['live']} lignes courantes, "
            f"{counts['history']} lignes d'historique réécrites"
        )
        sample = random.Random(22).sample(sorted(chosen), min(50, len(chosen)))  # noqa: S311 - a sample
        broken = [pk for pk in sample if verify_chain(chain_key(pk)) is not None]
        self.stdout.write(
            f"chaînes vérifiées après l'anonymisation : {len(sample)} dossiers tirés, {len(broken)} rompue(s) "
            f"({connection.vendor})"
        )
