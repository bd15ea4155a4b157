"""Let offer deadlines act: lapsed suspensive conditions, silence as refusal. Any scheduler may run it."""

from audit.commands import AuditedCommand
from workflows.services import offers_sweep


class Command(AuditedCommand):
    help = "Fait jouer les échéances des offres (conditions suspensives caduques, silence valant refus)."

    def handle(self, *args, **options):
        counts = offers_sweep()
        self.stdout.write(
            f"conditions suspensives caduques : {counts['conditions_lapsed']} ; silences valant refus : "
            f"{counts['silences']}"
        )
