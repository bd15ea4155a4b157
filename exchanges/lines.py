"""A small-file line import (the State tool's results, the SIAO's referrals), on the pattern of the
application import (exchanges/files.py): one transaction; each line read and checked (French message per line and
column, in the same report); a file with rejected lines imports nothing unless `skip_invalid`, a dry
run imports nothing; the same Result (same verdicts, same pages).

A subclass gives its layout, `read(row) -> (values, [(column, message)])` and
`apply(line, values) -> "created" | "unchanged" | (column, conflict message)`.
"""

from datetime import datetime

from audit.chain import chained_at_end
from cases.audit import acting_as

from .files import FileImport, Rejected
from .layouts import Layout


class LineImport(FileImport):
    layout: Layout

    def __init__(self, *, actor, job=None, **options):
        self.actor = actor
        self.job = job
        self.delimiter = self.layout.delimiter
        self.format_name = self.layout.key
        super().__init__(**options)
        self.seen: dict = {}  # key of a line → its line number (a key twice in one file)

    def begin(self, header: list[str]) -> None:
        self.layout.check_header(header)
        self.prepare()

    def prepare(self) -> None:
        """Reference data read once per file."""

    def read(self, row: dict) -> tuple[dict | None, list]:
        raise NotImplementedError

    def key(self, values: dict):
        raise NotImplementedError

    def apply(self, line: int, values: dict):
        raise NotImplementedError

    def import_rows(self, rows) -> None:
        with acting_as(self.actor, self.reason), chained_at_end():
            self._import(rows)

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
