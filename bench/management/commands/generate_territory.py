"""Fill the database with a synthetic territory of any size, for the benchmark (issue 8).

    manage.py generate_territory --cases 100000 [--seed 1] [--batch 5000] [--password …]

Organisations over the real communes, accounts and memberships, households and cases at every
step with their viewflow process and tasks, grants, records and chained history. Meant for an empty
database (after `migrate`); it refuses to run twice on the same one.
"""

import multiprocessing
import os
import random
import time

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from audit.commands import AuditedCommand
from bench import territory as t
from bench.cases import CaseGenerator, counts_by_status
from bench.progress import Progress
from permissions.policy import policy
from permissions.roles import Role

DEFAULT_PASSWORD = "bench-ppgdid-2026"
_JOB = None  # what the batch writers share (inherited by the forked workers)
_GENERATORS = {}


def _write_batch(index: int) -> dict:
    """Write batch number `index` (its own random stream: the data do not depend on the workers)."""
    territory, seed, now, batch_size, n_cases = _JOB
    start = index * batch_size
    generator = _GENERATORS.get(os.getpid())
    if generator is None:
        generator = _GENERATORS[os.getpid()] = CaseGenerator(territory, random.Random(), now)
    generator.rng = random.Random(f"{seed}:{index}")
    return generator.write_batch(start, min(batch_size, n_cases - start))


class Command(AuditedCommand):
    help = "Génère un territoire fictif de mesure (organisations, comptes, dossiers à toutes les étapes)."
    audit_reason = "Données de mesure (generate_territory)"

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, required=True, help="nombre de dossiers (10 000 à 1 000 000)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--batch", type=int, default=5000, help="dossiers par transaction")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="mot de passe des comptes de mesure")
        parser.add_argument("--agenda", type=int, default=60, help="dossiers à l'ordre du jour de la séance")
        parser.add_argument("--quiet", action="store_true", help="sans barre de progression")
        parser.add_argument(
            "--workers", type=int, default=2, help="processus d'écriture en parallèle (PostgreSQL seulement)"
        )

    def handle(self, *args, **options):
        n_cases, batch_size = options["cases"], max(1, options["batch"])
        if n_cases < 1:
            raise CommandError("--cases doit être positif.")
        if get_user_model().objects.filter(username="bench.ts").exists():
            raise CommandError("Ce jeu de données existe déjà dans cette base : partez d'une base vide (migrate).")
        rng = random.Random(options["seed"])
        started = time.monotonic()
        with transaction.atomic():
            territory = t.build_organisations()
            t.build_accounts(territory, n_cases, options["password"], rng)
            t.build_committee(territory, rng)
            t.compute_commission_groups(territory)
            t.ensure_groups(territory)
        setup = time.monotonic() - started
        bar = None if options["quiet"] else Progress(n_cases, "Dossiers")
        totals = {"cases": 0, "grants": 0, "audit_entries": 0}
        global _JOB
        _JOB = (territory, options["seed"], timezone.now(), batch_size, n_cases)
        _GENERATORS.clear()  # a generator belongs to one run (a second call in the same process)
        batches = range((n_cases + batch_size - 1) // batch_size)
        # Forked workers need their own connections: not inside a caller's transaction (tests), nor on SQLite.
        parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
        workers = options["workers"] if parallel else 1
        if workers > 1:
            # One process per core: while one waits for PostgreSQL, the other computes its next batch.
            connections.close_all()  # each child opens its own connection
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                results = list(self._collect(pool.imap_unordered(_write_batch, batches), totals, bar))
        else:
            results = list(self._collect(map(_write_batch, batches), totals, bar))
        if bar:
            bar.close()
        assert len(results) == len(batches)
        session = t.build_agenda(territory, options["agenda"])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Planner statistics and visibility map of the bulk load (autovacuum does it late):
                # without the map, index-only scans read the table. VACUUM cannot run in a
                # transaction (tests run the command in one).
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
                if not connection.in_atomic_block:
                    # Flush the load now rather than during the first measures (superuser only).
                    try:
                        cursor.execute("CHECKPOINT")
                    except DatabaseError:
                        self.stderr.write("CHECKPOINT refusé (rôle non superutilisateur) : mesures plus bruitées.")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"{totals['cases']} dossiers, {totals['grants']} droits sur dossiers, "
            f"{totals['audit_entries']} entrées d'audit en {elapsed:.0f} s (référentiel {setup:.0f} s)."
        )
        self.stdout.write(
            "Dossiers par étape : " + ", ".join(f"{k} {v}" for k, v in sorted(counts_by_status().items()))
        )
        self.stdout.write(f"Séance de commission : {session} ({session.items.count()} dossiers à l'ordre du jour).")
        self.print_bench_users(territory, options["password"])

    def _collect(self, results, totals, bar):
        for result in results:
            for key, value in result.items():
                totals[key] += value
            if bar:
                bar.update(result["cases"])
            yield result

    def print_bench_users(self, territory, password):
        from guardian.models import GroupObjectPermission

        self.stdout.write(f"Comptes de mesure (mot de passe « {password} ») :")
        rows = [
            ("bench.ts", f"travailleur social, {territory.big_org}"),
            ("bench.supervisor", f"encadrant, {territory.big_org}"),
            ("bench.commission", f"membre de la {territory.committee}"),
            ("bench.landlord", f"agent bailleur, {territory.national_landlord}"),
            ("bench.auditor", "auditeur"),
        ]
        landlord_group = territory.group(territory.national_landlord.pk, Role.LANDLORD_AGENT)
        for username, label in rows:
            user = get_user_model().objects.get(username=username)
            extra = ""
            if username == "bench.landlord":
                grants = GroupObjectPermission.objects.filter(group_id=landlord_group).count()
                extra = f", {grants} droits sur dossiers"
            self.stdout.write(f"  {username:18} {label} – {policy.queryset_for(user).count()} dossiers visibles{extra}")
