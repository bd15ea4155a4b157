"""The command side of the line imports (State tool's results, SIAO referrals): run as a named
territory administrator, whose territory bounds the file and whose name goes on the history rows."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from permissions.policy import memberships_of
from permissions.roles import Role

from .files import Report


def importer_user(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"Utilisateur inconnu ou inactif : {username}")
    return user


class LineImportCommand(AuditedCommand):
    importer_class = None
    what = ""

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="identifiant de l'administrateur de territoire")
        parser.add_argument("--dry-run", action="store_true", help="simule : rien n'est enregistré")
        parser.add_argument("--skip-invalid", action="store_true", help="importe les lignes valides seulement")
        parser.add_argument("--report", help="chemin du rapport CSV des rejets et conflits")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        user = importer_user(options["user"])
        communes = {c for g in memberships_of(user) if g.role == Role.TERRITORY_ADMIN for c in g.commune_ids}
        if not communes:
            raise CommandError("Cet utilisateur n'est administrateur d'aucun territoire.")
        report_file = open(options["report"], "w", newline="", encoding="utf-8") if options["report"] else None  # noqa: SIM115
        try:
            importer = self.importer_class(
                actor=user,
                reason=f"{self.what} ({self.importer_class.layout.key}, {path.name})",
                allowed_communes=communes,
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
                report=Report(report_file),
            )
            with path.open("rb") as binary:
                result = importer.run_file(binary, path.name)
        finally:
            if report_file:
                report_file.close()
        out = self.stdout
        out.write(
            f"{result.lines} ligne(s) lue(s) au format {result.mapping} : {result.created} créée(s), "
            f"{result.unchanged} inchangée(s), {result.rejected} rejetée(s), {result.conflicts} conflit(s)."
        )
        for line, column, kind, message in result.messages[:20]:
            out.write(f"  ligne {line}, colonne « {column} » ({kind}) : {message}")
        out.write(result.verdict)
        if result.file_error:
            raise CommandError(result.file_error)
