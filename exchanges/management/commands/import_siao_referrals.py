"""manage.py import_siao_referrals FILE --user NAME [--dry-run] [--skip-invalid] [--report PATH]"""

from exchanges.line_command import LineImportCommand
from exchanges.siao import SiaoImport


class Command(LineImportCommand):
    help = "Importe les orientations du SIAO comme pré-signalements."
    audit_reason = "Import des orientations du SIAO"
    importer_class = SiaoImport
    what = "Import des orientations du SIAO"
