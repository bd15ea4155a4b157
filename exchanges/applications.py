"""Import of applications (households and their members) by NUD.

One pass over the file, streamed in batches, inside one transaction:
- each line is read through the mapping and checked (French message per line and column);
- a household is created, updated, or left as it is. What the last import wrote is kept per NUD
  (ImportedApplication): a field whose value in the application differs from it was changed by a
  social worker since, so the file does not overwrite it and the conflict is listed;
- the same file twice: every digest matches the last import's, nothing is written;
- a file with rejected lines imports nothing unless `skip_invalid` (the transaction is rolled back),
  and a dry run is rolled back always.
Writes go through audit.bulk (history rows with the import's reason, audit chain), in batches.
"""

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.utils import timezone

from audit.bulk import (
    HistoryBatch,
    State,
    bulk_create_with_states,
    bulk_update_with_history,
    chained_on_exit,
    current_actor,
    delete_with_history,
    insert_dicts,
)
from audit.chain import chained_at_end
from cases.choices import HousingSituation, Relationship, ResidenceStatus
from cases.models import Commune, Household, HouseholdMember
from cases.validators import NUD_PATTERN, validate_nud

from . import readers
from .files import FileImport, Rejected
from .mappings import Mapping
from .models import ImportedApplication

BATCH = 1000
REQUIRED = ("nud", "applicant_last_name", "applicant_first_name", "applicant_birth_date", "housing_situation")
DATES = ("applicant_birth_date", "housing_since")
MONEY = (
    "tax_income_n2",
    "monthly_wages",
    "monthly_rsa",
    "monthly_aah",
    "monthly_family_benefits",
    "monthly_other_income",
)
CHOICES = {"housing_situation": HousingSituation, "residence_status": ResidenceStatus, "relationship": Relationship}
TEXT_LIMITS = {
    "applicant_last_name": 120,
    "applicant_first_name": 120,
    "phone": 20,
    "address": 250,
    "first_name": 120,
    "last_name": 120,
}
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y")
OLDEST = date(1900, 1, 1)


# --- reading one line ---------------------------------------------------------------------------


_AMOUNT = re.compile(r"[0-9]{1,8}(?:[,.][0-9]{1,2})?")  # the usual spelling: no spaces, no sign, no euro
_DAY_MONTH_YEAR = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")


def _money(text: str) -> Decimal:
    if _AMOUNT.fullmatch(text):  # fast path, same value as below
        return Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text).replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise Rejected("montant illisible (exemple attendu : 1 234,56)") from None
    if not value.is_finite():
        raise Rejected("montant illisible (exemple attendu : 1 234,56)")
    if value < 0:
        raise Rejected("montant négatif : un revenu ne peut pas être inférieur à 0")
    if value >= Decimal("100000000"):
        raise Rejected("montant trop élevé")
    return value.quantize(Decimal("0.01"))


def _date(text: str, today: date) -> date:
    value = None
    found = _DAY_MONTH_YEAR.fullmatch(text)
    if found:  # fast path for JJ/MM/AAAA (strptime costs ten times more)
        try:
            value = date(int(found[3]), int(found[2]), int(found[1]))
        except ValueError:
            value = None
    if value is None:
        for fmt in DATE_FORMATS:
            try:
                value = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        else:
            raise Rejected("date impossible ou illisible (attendu JJ/MM/AAAA, par exemple 17/05/1985)")
    if value > today:
        raise Rejected("date impossible : elle est dans le futur")
    if value < OLDEST:
        raise Rejected("date impossible : antérieure à 1900")
    return value


def _words(name: str, mapping: Mapping) -> tuple[dict, str]:
    """{word of a file, casefolded: code} for a choice field, and the message that rejects others."""
    choices = CHOICES[name]
    words = {str(w).casefold(): code for w, code in (mapping.values.get(name) or {}).items()}
    words |= {str(label).casefold(): code for code, label in choices.choices}
    words |= {code.casefold(): code for code in choices.values}
    words = {w: code for w, code in words.items() if code in choices.values}
    return words, "valeur inconnue ; valeurs admises : " + ", ".join(str(label) for label in choices.labels)


class LineReader:
    """Turns a row of the file into canonical values (strings: ISO dates, amounts with 2 decimals,
    codes), or the list of (column, message) that reject it."""

    def __init__(self, mapping: Mapping, header: list[str], communes: set[str], allowed: set[str] | None):
        self.mapping = mapping
        self.communes = communes
        self.allowed = allowed
        self.today = timezone.localdate()
        present = set(header)
        self.columns = {f: h for f, h in mapping.columns.items() if h in present}
        self.members = [m for m in mapping.member_columns() if m["first_name"] in present]
        self.words = {name: _words(name, mapping) for name in CHOICES}  # labels translated once
        missing = [mapping.columns[f] for f in REQUIRED if f in mapping.columns and f not in self.columns]
        missing += [f for f in REQUIRED if f not in mapping.columns]
        if missing:
            raise readers.FileFormatError(
                f"Colonne(s) absente(s) du fichier pour le modèle {mapping.key} : {', '.join(missing)}."
            )

        # One parser per field, chosen once (not a chain of tests per cell).
        fields = set(self.columns) | {f for m in self.members for f in m}
        self.parsers = {name: self._parser(name) for name in fields}
        self.empty = {name: ("0.00" if name in MONEY and name != "tax_income_n2" else "") for name in fields}
        self.plan = [
            (name, header, self.parsers[name], name in REQUIRED, self.empty[name])
            for name, header in self.columns.items()
        ]
        self.member_plan = [[(f, header, self.parsers[f]) for f, header in m.items()] for m in self.members]

    def _parser(self, name: str) -> Callable[[str], str]:
        if name == "nud":
            return self._nud
        if name in DATES or name == "birth_date":
            return lambda text: _date(text, self.today).isoformat()
        if name in MONEY:
            return lambda text: str(_money(text))
        if name in CHOICES:
            words, message = self.words[name]

            def choice(text):
                try:
                    return words[text.casefold()]
                except KeyError:
                    raise Rejected(message) from None

            return choice
        if name == "commune":
            return self._commune
        if name == "email":
            return self._email
        limit = TEXT_LIMITS.get(name)
        if limit:

            def text_(text):
                if len(text) > limit:
                    raise Rejected(f"texte trop long ({limit} caractères au plus)")
                return text

            return text_
        return lambda text: text

    @staticmethod
    def _nud(text: str) -> str:
        value = text.upper()
        if NUD_PATTERN.match(value):
            return value
        try:
            validate_nud(value)
        except ValidationError as error:
            raise Rejected(error.messages[0]) from None
        return value

    def _commune(self, text: str) -> str:
        if text not in self.communes:
            raise Rejected(f"commune inconnue : code INSEE « {text[:10]} » absent du référentiel")
        if self.allowed is not None and text not in self.allowed:
            raise Rejected("commune hors de votre territoire")
        return text

    @staticmethod
    def _email(text: str) -> str:
        try:
            validate_email(text)
        except ValidationError:
            raise Rejected("adresse électronique invalide") from None
        return text

    def _value(self, name: str, text: str):
        if not text:
            if name in REQUIRED:
                raise Rejected("valeur obligatoire manquante")
            return self.empty[name]
        return self.parsers[name](text)

    def read(self, row: dict) -> tuple[dict | None, list]:
        values, errors = {}, []
        get = row.get
        for name, header, parse, required, empty in self.plan:
            text = get(header) or ""
            try:
                if text:
                    values[name] = parse(text)
                elif required:
                    raise Rejected("valeur obligatoire manquante")
                else:
                    values[name] = empty
            except Rejected as error:
                errors.append((header, str(error)))
        birth, since = values.get("applicant_birth_date"), values.get("housing_since")
        if birth and since and since < birth:
            errors.append((self.columns["housing_since"], "date impossible : antérieure à la date de naissance"))
        if self.members:
            members = []
            for columns in self.member_plan:
                cells = [get(header) or "" for _f, header, _parse in columns]
                if not any(cells):
                    continue
                member = []
                for (_f, header, parse), text in zip(columns, cells, strict=True):
                    try:
                        if not text:
                            raise Rejected("valeur obligatoire manquante pour ce membre")
                        member.append(parse(text))
                    except Rejected as error:
                        errors.append((header, str(error)))
                if len(member) == len(columns):
                    members.append(member)
            values["members"] = sorted(members, key=lambda m: (m[3], m[0], m[1]))
        return (None if errors else values), errors


def digest(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- comparing with the database ----------------------------------------------------------------


def _canonical(household: Household, name: str):
    if name == "commune":
        return household.commune_id or ""
    if name == "members":
        return sorted(
            ([m.first_name, m.last_name, m.relationship, m.birth_date.isoformat()] for m in household.members.all()),
            key=lambda m: (m[3], m[0], m[1]),
        )
    value = getattr(household, name)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    return str(value)


def _assign(household: Household, name: str, value) -> None:
    if name == "commune":
        household.commune_id = value or None
    elif name in DATES:
        setattr(household, name, date.fromisoformat(value) if value else None)
    elif name in MONEY:
        setattr(household, name, Decimal(value) if value else None)
    else:
        setattr(household, name, value)


def _members(household: Household, rows: list) -> list[HouseholdMember]:
    return [
        HouseholdMember(  # household_id, not household: the descriptor costs more than the row
            household_id=household.pk,
            first_name=f,
            last_name=last,
            relationship=rel,
            birth_date=date.fromisoformat(born),
        )
        for f, last, rel, born in rows
    ]


class Importer(FileImport):
    def __init__(self, mapping: Mapping, **options):
        self.mapping = mapping
        self.delimiter = mapping.delimiter
        self.format_name = mapping.key
        super().__init__(**options)
        self.run = uuid.uuid4()
        self.reader: LineReader | None = None

    def reject(self, line, column, message):
        self.report.add(self.result, line, column, "rejet", message)

    def begin(self, header: list[str]) -> None:
        communes = set(Commune.objects.values_list("pk", flat=True))
        self.reader = LineReader(self.mapping, header, communes, self.allowed)

    def import_rows(self, rows) -> None:
        # The history rows are linked to the audit chains once, at the end: the global chain's head
        # (households without a case) is not held by an import for its whole length.
        with chained_at_end(), chained_on_exit():
            self._import(rows)

    def _import(self, rows) -> None:
        reader = self.reader
        batch = []
        for line, row in rows:
            self.result.lines += 1
            values, errors = reader.read(row)
            for column, message in errors:
                self.reject(line, column, message)
            if errors:
                self.result.rejected += 1
            else:
                batch.append((line, values))
            if len(batch) >= BATCH:
                self._batch(batch)
                batch = []
                self.progress(self.result.lines)
        if batch:
            self._batch(batch)
        self.progress(self.result.lines)

    def _batch(self, batch: list) -> None:
        """One batch of valid lines: a fixed number of queries whatever its size (what the last import
        wrote, the households to compare, then the bulk writes)."""
        r = self.result
        writing = self.skip_invalid or not r.rejected  # after a rejection without skip_invalid: check only
        nuds = [values["nud"] for _line, values in batch]
        known = {  # the household's NUD too: an anonymised household no longer carries the file's NUD
            nud: (pk, digest_, run, line, household_nud == nud)
            for pk, nud, digest_, run, line, household_nud in ImportedApplication.objects.filter(
                nud__in=nuds
            ).values_list("pk", "nud", "digest", "run", "line", "household__nud")
        }
        seen, pending = {}, []
        seen_again = []  # (snapshot pk, line): unchanged since the last import, only marked as seen by this run
        for line, values in batch:
            nud = values["nud"]
            snap = known.get(nud)
            first = seen.get(nud) or (snap[3] if snap and snap[2] == self.run else None)
            if first:
                self.reject(line, self.mapping.columns["nud"], f"NUD déjà présent ligne {first} du fichier")
                r.rejected += 1
                continue
            seen[nud] = line
            row_digest = digest(values)
            if snap is not None and snap[1] == row_digest and snap[4]:
                r.unchanged += 1  # the household exists (its snapshot goes with it): nothing to read
                seen_again.append((snap[0], line))
            else:
                pending.append((line, values, snap, row_digest))
        to_read = [values["nud"] for _line, values, _snap, _digest in pending]
        households = (
            {h.nud: h for h in Household.objects.filter(nud__in=to_read).prefetch_related("members")} if to_read else {}
        )
        changed_snaps = [snap[0] for _line, _values, snap, _digest in pending if snap is not None]
        last_values = (
            dict(ImportedApplication.objects.filter(pk__in=changed_snaps).values_list("pk", "values"))
            if changed_snaps
            else {}
        )
        new, changed, fields, members_of, snapshots_new, snapshots_old = [], [], set(), {}, [], []
        for line, values, snap, row_digest in pending:
            nud = values["nud"]
            household = households.get(nud)
            if household is None:
                household = Household()
                for name, value in values.items():
                    if name != "members":
                        _assign(household, name, value)
                new.append(household)
                members_of[nud] = (household, None, values.get("members") or [])
                r.created += 1
            else:
                last = last_values.get(snap[0], {}) if snap else {}
                touched = []
                for name, value in values.items():
                    current = _canonical(household, name)
                    if value == current:
                        continue
                    if name in last and last[name] == current:
                        touched.append(name)
                    else:
                        column = self.mapping.columns.get(name) or "membres"
                        self.report.add(
                            r,
                            line,
                            column,
                            "conflit",
                            "valeur modifiée dans l'application depuis le dernier import : "
                            "celle du fichier n'a pas été reprise",
                        )
                        r.conflicts += 1
                if not touched:
                    r.unchanged += 1
                else:
                    r.updated += 1
                    if "members" in touched:
                        members_of[nud] = (household, list(household.members.all()), values["members"])
                    plain = [n for n in touched if n != "members"]
                    for name in plain:
                        _assign(household, name, values[name])
                    if plain:
                        changed.append(household)
                        fields |= {"commune" if n == "commune" else n for n in plain}
            if snap:
                snapshots_old.append((snap[0], household, row_digest, values, line))
            else:
                snapshots_new.append((nud, household, row_digest, values, line))
        if not writing:
            return
        # New rows through COPY with their '+' history rows, chained once per batch.
        history = HistoryBatch()
        actor = getattr(current_actor(), "pk", None)
        now = timezone.now()

        def created(objs):
            return [[State("+", now, actor, self.reason)]] * len(objs)  # one state, shared (never mutated)

        if new:
            bulk_create_with_states(new, Household, created(new), batch=history)
        if changed:
            bulk_update_with_history(changed, Household, sorted(fields), reason=self.reason, batch_size=BATCH)
        old_members = [m for _h, old, _rows in members_of.values() if old for m in old]
        if old_members:
            delete_with_history(old_members, HouseholdMember, reason=self.reason)
        new_members = [m for household, _old, rows in members_of.values() for m in _members(household, rows)]
        if new_members:
            bulk_create_with_states(new_members, HouseholdMember, created(new_members), batch=history)
        history.chain()
        self._write_snapshots(snapshots_new, snapshots_old, seen_again, now)

    def _write_snapshots(self, new: list, old: list, seen_again: list, now) -> None:
        """Bookkeeping, not audited: what this import wrote per NUD, and which run saw it last (the
        duplicate lines of a file are found through `run` and `line`)."""
        insert_dicts(  # COPY on PostgreSQL
            ImportedApplication,
            [
                {"nud": nud, "household_id": h.pk, "digest": d, "values": v, "run": self.run, "line": line}
                | {"updated_at": now}
                for nud, h, d, v, line in new
            ],
        )
        if old:
            ImportedApplication.objects.bulk_update(
                [
                    ImportedApplication(
                        pk=pk, household_id=h.pk, digest=d, values=v, run=self.run, line=line, updated_at=now
                    )
                    for pk, h, d, v, line in old
                ],
                ["household", "digest", "values", "run", "line", "updated_at"],
                batch_size=BATCH,
            )
        if not seen_again:
            return
        if connection.vendor == "postgresql":  # one statement, not bulk_update's CASE per row
            table = connection.ops.quote_name(ImportedApplication._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} AS s SET run = %s, line = v.line, updated_at = %s "
                    "FROM unnest(%s::bigint[], %s::integer[]) AS v(id, line) WHERE s.id = v.id",
                    [self.run, now, [pk for pk, _line in seen_again], [line for _pk, line in seen_again]],
                )
            return
        ImportedApplication.objects.bulk_update(
            [ImportedApplication(pk=pk, run=self.run, line=line, updated_at=now) for pk, line in seen_again],
            ["run", "line", "updated_at"],
            batch_size=BATCH,
        )
