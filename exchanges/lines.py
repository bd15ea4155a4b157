"""A small-file line import (the State tool's results, the SIAO's referrals), on the pattern of the
application import: one transaction; each line read and checked (French message per line and
column, in the same report); a file with rejected lines imports nothing unless `skip_invalid`, a dry
run imports nothing; the outcome in the application import's Result (same verdicts, same pages).

A subclass gives its layout, `read(row) -> (values, [(column, message)])` and
`apply(line, values) -> "created" | "unchanged" | (column, conflict message)`.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction

from audit.chain import chained_at_end
from cases.audit import acting_as

from . import readers
from .applications import Report, Result
from .layouts import Layout


class Rejected(Exception):
    pass


class LineImport:
    layout: Layout

    def __init__(
        self,
        *,
        actor,
        reason: str,
        allowed_communes: set[str] | None = None,
        dry_run=False,
        skip_invalid=False,
        report: Report | None = None,
        progress: Callable[[int], None] | None = None,
        job=None,
    ):
        self.actor = actor
        self.reason = reason[:100]
        self.allowed = allowed_communes
        self.dry_run = dry_run
        self.skip_invalid = skip_invalid
        self.report = report or Report()
        self.progress = progress or (lambda lines: None)
        self.job = job
        self.result = Result(dry_run=dry_run, mapping=self.layout.key)
        self.seen: dict = {}  # key of a line → its line number (a key twice in one file)

    def prepare(self) -> None:
        """Reference data read once per file."""

    def read(self, row: dict) -> tuple[dict | None, list]:
        raise NotImplementedError

    def key(self, values: dict):
        raise NotImplementedError

    def apply(self, line: int, values: dict):
        raise NotImplementedError

    def run_file(self, binary, name: str) -> Result:
        rows = readers.rows(binary, name, self.layout.delimiter)
        try:
            self.layout.check_header(next(rows))
            self.prepare()
            with transaction.atomic():
                with acting_as(self.actor, self.reason), chained_at_end():
                    self._import(rows)
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

    def _import(self, rows) -> None:
        r = self.result
        for line, row in rows:
            r.lines += 1
            values, errors = self.read(row)
            if not errors:
                key = self.key(values)
                first = self.seen.get(key)
                if first:
                    errors = [
                        (self.layout.columns[0].header, f"ligne en double : déjà présente ligne {first} du fichier")
                    ]
                else:
                    self.seen[key] = line
            if errors:
                r.rejected += 1
                for column, message in errors:
                    self.report.add(r, line, column, "rejet", message)
                continue
            outcome = self.apply(line, values)
            if outcome == "created":
                r.created += 1
            elif outcome == "unchanged":
                r.unchanged += 1
            else:
                column, message = outcome
                r.conflicts += 1
                self.report.add(r, line, column, "conflit", message)
            if r.lines % 200 == 0:
                self.progress(r.lines)
        self.progress(r.lines)


def yes_no(text: str) -> bool:
    value = text.strip().casefold()
    if value in ("", "non", "n", "0", "false", "faux"):
        return False
    if value in ("oui", "o", "1", "true", "vrai"):
        return True
    raise Rejected("valeur attendue : « oui » ou « non »")


DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def parse_date(text: str, today):
    for fmt in DATE_FORMATS:
        try:
            value = datetime.strptime(text.strip(), fmt).date()
            break
        except ValueError:
            continue
    else:
        raise Rejected("date impossible ou illisible (attendu JJ/MM/AAAA, par exemple 17/05/2026)")
    if value > today:
        raise Rejected("date impossible : elle est dans le futur")
    if value.year < 2000:
        raise Rejected("date impossible : antérieure à 2000")
    return value


def text(value: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Rejected("valeur obligatoire manquante")
    if len(value) > limit:
        raise Rejected(f"texte trop long ({limit} caractères au plus)")
    return value


def checked(errors: list, column: str, parse, *args, **kwargs):
    """parse(*args, **kwargs), or None with (column, message) added to `errors`."""
    try:
        return parse(*args, **kwargs)
    except Rejected as error:
        errors.append((column, str(error)))
        return None
