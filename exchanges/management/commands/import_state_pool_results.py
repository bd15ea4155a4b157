"""manage.py import_state_pool_results FILE --user NAME [--dry-run] [--skip-invalid] [--report PATH]"""

from exchanges.line_command import LineImportCommand
from exchanges.state_pool import ResultsImport


class Command(LineImportCommand):
    help = "Importe les résultats de l'outil de l'État (désignations, attributions) sur les dossiers."
    audit_reason = "Import des résultats de l'outil de l'État"
    importer_class = ResultsImport
    what = "Import des résultats de l'outil de l'État"
