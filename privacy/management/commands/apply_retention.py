from rich.progress import Progress

from audit.commands import AuditedCommand
from privacy.services import apply_retention


class Command(AuditedCommand):
    help = (
        "Anonymise les dossiers clos dont la durée de conservation est échue (règles par catégorie et par "
        "département, gels légaux respectés), dans les lignes courantes et dans tout l'historique. "
        "--dry-run liste, par règle, ce qui serait anonymisé, sans rien écrire."
    )
    audit_reason = "Anonymisation (règles de conservation)"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Lister sans rien modifier.")
        parser.add_argument("--no-progress", action="store_true", help="Sans barre de progression.")

    def handle(self, *args, dry_run=False, no_progress=False, **options):
        if dry_run or no_progress:
            results = apply_retention(dry_run=dry_run)
        else:
            with Progress(transient=False) as progress:

                def bar(total):
                    task = progress.add_task("Anonymisation", total=total)
                    return type("Bar", (), {"update": staticmethod(lambda n: progress.advance(task, n))})

                results = apply_retention(progress=bar)
        if not results:
            self.stdout.write("Aucun dossier à anonymiser.")
        for line, counts in results:
            head = (
                f"Règle {line.label} ({line.departement}, {line.months} mois après clôture"
                f"{'' if line.confirmed else ', à confirmer par le DPO'}) : "
                f"{len(line.case_ids)} dossier(s)"
            )
            if dry_run:
                self.stdout.write(f"[simulation] {head}, ids {', '.join(map(str, line.case_ids[:20]))}")
                for label, (live, history) in counts.items():
                    self.stdout.write(f"    {label} : {live} ligne(s) courante(s), {history} ligne(s) d'historique")
            else:
                self.stdout.write(
                    f"{head} : {counts['live']} ligne(s) courante(s), {counts['history']} ligne(s) d'historique, "
                    f"{counts['documents']} document(s) supprimé(s)"
                )
