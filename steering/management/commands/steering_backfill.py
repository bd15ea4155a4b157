"""Write the allocation record of every signed lease that has none, then rebuild the aggregates.

manage.py steering_backfill            # allocations + full rebuild of the aggregates (progress bar)
manage.py steering_backfill --dirty    # only the cases marked dirty (what the beat task runs)
manage.py steering_backfill --rollups  # only the rollups, summed again from the counters (new grains)
"""

from audit.commands import AuditedCommand
from steering import aggregates
from steering.allocations import backfill


class Command(AuditedCommand):
    help = "Enregistre les attributions manquantes et recalcule les agrégats du pilotage."
    audit_reason = "Pilotage : reprise des attributions et des agrégats"

    def add_arguments(self, parser):
        parser.add_argument(
            "--dirty", action="store_true", help="Seulement les dossiers modifiés depuis le dernier calcul."
        )
        parser.add_argument(
            "--rollups", action="store_true", help="Seulement les cumuls par grain, recalculés depuis les compteurs."
        )

    def handle(self, *args, **options):
        if options["rollups"]:
            rows = aggregates.rebuild_rollups()
            self.stdout.write(f"{rows} cumul(s) recalculé(s) depuis les compteurs.")
            return
        if options["dirty"]:
            done = aggregates.refresh_dirty()
            self.stdout.write(f"{done} dossier(s) recalculé(s).")
            return
        written = backfill()
        self.stdout.write(f"{written} attribution(s) enregistrée(s).")
        from cases.models import Case

        total, seen = Case.objects.count(), 0

        def progress(count):
            nonlocal seen
            seen += count
            self.stderr.write(f"\rAgrégats : {seen}/{total} dossiers", ending="")

        done = aggregates.rebuild(progress=progress)
        self.stderr.write("")
        self.stdout.write(f"Agrégats recalculés pour {done} dossier(s).")
