from django.core.management.base import CommandError

from audit.chain import all_chain_keys, unchained_rows, verify_chain
from audit.commands import AuditedCommand
from audit.models import chain_key


class Command(AuditedCommand):
    help = (
        "Vérifie chaque chaîne d'audit (une par dossier, plus la chaîne globale) et nomme la première "
        "entrée rompue de chaque chaîne. Code de sortie non nul si une chaîne est rompue ou si une ligne "
        "d'historique n'est pas chaînée."
    )

    def add_arguments(self, parser):
        parser.add_argument("--case", type=int, help="Ne vérifier que la chaîne de ce dossier (identifiant).")

    def handle(self, *args, case=None, **options):
        keys = [chain_key(case)] if case else all_chain_keys()
        breaks = [b for b in (verify_chain(key) for key in keys) if b]
        for broken in breaks:
            self.stderr.write(f"ROMPUE {broken}")
        unchained = [] if case else list(unchained_rows())
        for label, ids in unchained:
            self.stderr.write(f"NON CHAÎNÉE {label} : {len(ids)} ligne(s), ids {', '.join(ids[:10])}")
        self.stdout.write(f"{len(keys)} chaîne(s) vérifiée(s), {len(breaks)} rompue(s).")
        if breaks or unchained:
            raise CommandError(
                f"Chaîne d'audit rompue : {breaks[0]}" if breaks else "Lignes d'historique non chaînées."
            )
