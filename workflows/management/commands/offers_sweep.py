"""Suspensive conditions lapse when their deadline passes. Any scheduler may run it."""

from audit.commands import AuditedCommand
from workflows.services import offers_sweep


class Command(AuditedCommand):
    help = "Rend caduques les attributions sous condition suspensive dont la pièce n'est pas arrivée à temps."

    def handle(self, *args, **options):
        counts = offers_sweep()
        self.stdout.write(f"conditions suspensives caduques : {counts['conditions_lapsed']}")
