"""manage.py import_applications FILE --mapping NAME [--dry-run] [--skip-invalid] [--report PATH]"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from audit.commands import AuditedCommand
from exchanges import mappings, readers
from exchanges.applications import Importer
from exchanges.files import Report


def import_file(path: Path, mapping, *, dry_run=False, skip_invalid=False, report=None, also=None):
    """Run an import of a file on disk with a progress bar (rich) on the terminal; `also(lines)` is
    called with the bar at each batch."""
    reason = f"Import de demandes ({mapping.key}, {path.name})"
    with path.open("rb") as binary:
        total = readers.count_lines(binary, path.name)
        columns = [TextColumn("Import"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("import", total=total)
            importer = Importer(
                mapping,
                reason=reason,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                report=report,
                progress=lambda lines: (bar.update(task, completed=lines), also and also(lines)),
            )
            return importer.run_file(binary, path.name)


class Command(AuditedCommand):
    help = "Importe des demandes (ménages et membres, par NUD) depuis un fichier CSV ou XLSX."
    audit_reason = "Import de demandes"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--mapping", default=mappings.DEFAULT, help="nom[@version] du modèle de colonnes")
        parser.add_argument("--dry-run", action="store_true", help="simule : rien n'est enregistré")
        parser.add_argument("--skip-invalid", action="store_true", help="importe les lignes valides seulement")
        parser.add_argument("--report", help="chemin du rapport CSV des rejets et conflits")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        try:
            mapping = mappings.get(options["mapping"])
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        report_file = open(options["report"], "w", newline="", encoding="utf-8") if options["report"] else None  # noqa: SIM115
        try:
            result = import_file(
                path,
                mapping,
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
                report=Report(report_file),
            )
        finally:
            if report_file:
                report_file.close()
        out = self.stdout
        out.write(
            f"{result.lines} ligne(s) lue(s) avec le modèle {result.mapping} : {result.created} créée(s), "
            f"{result.updated} mise(s) à jour, {result.unchanged} inchangée(s), {result.rejected} rejetée(s), "
            f"{result.conflicts} conflit(s)."
        )
        for line, column, kind, message in result.messages[:20]:
            out.write(f"  ligne {line}, colonne « {column} » ({kind}) : {message}")
        if len(result.messages) > 20:
            where = f" : {options['report']}" if options["report"] else " (--report)"
            out.write(f"  … voir le rapport complet{where}.")
        out.write(result.verdict)
        if result.file_error:
            raise CommandError(result.file_error)
