"""manage.py export_state_pool --user NAME [--output PATH]: the labelled DALO and priority households
of the user's territory, in the layout exchanges.layouts.POOL_EXPORT (what the user may see only;
each exported case is logged as a read of that user)."""

import sys

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from exchanges import state_pool
from exchanges.line_command import importer_user


class Command(AuditedCommand):
    help = "Exporte les ménages DALO et prioritaires labellisés du territoire pour l'outil de l'État."
    audit_reason = "Export vers l'outil de l'État"

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="identifiant de l'utilisateur qui exporte")
        parser.add_argument("--output", help="fichier CSV à écrire (sinon la sortie standard)")

    def handle(self, *args, **options):
        user = importer_user(options["user"])
        try:
            communes = state_pool.require_exporter(user)
        except PermissionDenied:
            raise CommandError(
                "Cet utilisateur n'est ni administrateur de territoire ni membre d'un service de l'État."
            ) from None
        if options["output"]:
            with open(options["output"], "w", newline="", encoding="utf-8") as stream:
                count = state_pool.write_export(user, communes, stream)
            self.stderr.write(f"{count} ménage(s) exporté(s) dans {options['output']}.")
        else:
            count = state_pool.write_export(user, communes, sys.stdout)
            self.stderr.write(f"{count} ménage(s) exporté(s).")
