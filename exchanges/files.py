"""What every import file shares (applications, the State tool's results, SIAO referrals): the
options, the outcome (Result), the rejection and conflict report, and the run of one file: header,
then every line inside one transaction, rolled back for a dry run or when lines were rejected
without `skip_invalid`. A subclass gives `delimiter`, `format_name` (its layout or mapping),
`begin(header)` and `import_rows(rows)`.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from . import readers

MAX_LISTED = 200  # messages kept for the result page; the report lists them all


class Rejected(Exception):
    """A value of a line that cannot be imported; its message is shown to the user as it is."""


@dataclass
class Result:
    lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    conflicts: int = 0
    applied: bool = False
    dry_run: bool = False
    mapping: str = ""
    file_error: str = ""
    messages: list = field(default_factory=list)  # (line, column, kind, message), the first MAX_LISTED

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}

    @property
    def verdict(self) -> str:
        if self.file_error:
            return self.file_error
        if self.rejected and not self.applied:
            return (
                f"{self.rejected} ligne(s) rejetée(s) : rien n'a été importé "
                "(relancer avec « importer les lignes valides seulement » pour importer les autres)."
            )
        if self.dry_run:
            return "Simulation : rien n'a été enregistré."
        if not self.created and not self.updated:
            return "Aucun changement : ce fichier a déjà été importé tel quel."
        return "Import enregistré."


class Report:
    """The rejection and conflict report (CSV, semicolon-separated, for a spreadsheet)."""

    HEADER = ["ligne", "colonne", "type", "message"]

    def __init__(self, stream=None):
        self.stream = stream
        self.writer = csv.writer(stream, delimiter=";") if stream is not None else None
        if self.writer:
            self.writer.writerow(self.HEADER)

    def add(self, result: Result, line: int, column: str, kind: str, message: str) -> None:
        item = (line, column, kind, message)
        if len(result.messages) < MAX_LISTED:
            result.messages.append(item)
        if self.writer:
            self.writer.writerow(item)


class FileImport:
    delimiter: str
    format_name: str  # the mapping or layout, shown with the result

    def __init__(
        self,
        *,
        reason: str,
        allowed_communes: set[str] | None = None,
        dry_run=False,
        skip_invalid=False,
        report: Report | None = None,
        progress: Callable[[int], None] | None = None,
    ):
        self.reason = reason[:100]
        self.allowed = allowed_communes
        self.dry_run = dry_run
        self.skip_invalid = skip_invalid
        self.report = report or Report()
        self.progress = progress or (lambda lines: None)
        self.result = Result(dry_run=dry_run, mapping=self.format_name)

    def begin(self, header: list[str]) -> None:
        """The header checked, the reference data read once per file."""

    def import_rows(self, rows) -> None:
        raise NotImplementedError

    def run_file(self, binary, name: str) -> Result:
        rows = readers.rows(binary, name, self.delimiter)
        try:
            self.begin(next(rows))
            with transaction.atomic():
                self.import_rows(rows)
                r = self.result
                r.applied = not self.dry_run and (self.skip_invalid or not r.rejected)
                if not r.applied:
                    transaction.set_rollback(True)
        except readers.FileFormatError as error:
            self.result.file_error = error.messages[0]
            self.result.applied = False
        finally:
            rows.close()
        return self.result
