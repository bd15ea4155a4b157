"""Load the per-commune reference figures (social housing stock, accessible dwellings, allocations of
the last 12 months, median waiting time) from a CSV file, one line per commune and typology:

    code_insee;typologie;logements;logements_accessibles;attributions_12_mois;delai_median_mois;annee
    83137;T3;5120;410;388;22;2025

Lines starting with "#" are comments. Separator ";" or ","; the accessible dwellings, allocations and
median wait may be empty. A line already loaded for the same commune and typology is replaced (with
its history). Nothing is written if any line is wrong: the errors are listed per line (numbered as in
the file), in French, and the command exits with status 1.
"""

import csv
from pathlib import Path

from django.core.management.base import CommandError
from django.db import transaction

from audit.commands import AuditedCommand
from cases.choices import Typology
from cases.models import Commune

from ...models import CommuneStock

COLUMNS = [
    "code_insee",
    "typologie",
    "logements",
    "logements_accessibles",
    "attributions_12_mois",
    "delai_median_mois",
    "annee",
]
OPTIONAL = {"logements_accessibles", "attributions_12_mois", "delai_median_mois"}


def _number(value: str, column: str, optional: bool, errors: list, maximum=10_000_000):
    value = (value or "").strip().replace("\u202f", "").replace(" ", "")
    if not value:
        if optional:
            return None
        errors.append(f"la colonne « {column} » est vide")
        return None
    if not value.isdigit() or int(value) > maximum:
        errors.append(f"« {value} » n'est pas un nombre entier positif (colonne « {column} »)")
        return None
    return int(value)


def parse(text: str) -> tuple[list[dict], list[str]]:
    """The rows to load and the errors, one message per wrong line ("ligne N : …", N as in the file)."""
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not numbered:
        return [], ["le fichier ne contient aucune ligne"]
    numbers, lines = zip(*numbered, strict=True)
    sample = lines[0]
    reader = csv.DictReader(lines, delimiter=";" if sample.count(";") >= sample.count(",") else ",")
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [
            f"ligne {numbers[0]} : colonne(s) manquante(s) : {', '.join(missing)} (attendu : {';'.join(COLUMNS)})"
        ]
    communes = set(Commune.objects.values_list("pk", flat=True))
    rows, errors, seen = [], [], set()
    for line in reader:
        number = numbers[reader.line_num - 1]
        problems = []
        code = (line["code_insee"] or "").strip()
        if code not in communes:
            problems.append(f"code INSEE « {code} » inconnu")
        typology = (line["typologie"] or "").strip().upper()
        if typology not in Typology.values:
            problems.append(f"typologie « {typology} » inconnue (T1 à T6)")
        values = {
            c: _number(line[c], c, c in OPTIONAL, problems, maximum=600 if c == "delai_median_mois" else 10_000_000)
            for c in COLUMNS[2:]
        }
        year = values["annee"]
        if year is not None and not 2000 <= year <= 2100:
            problems.append(f"année « {year} » invalide")
        if values["logements"] is not None and (values["logements_accessibles"] or 0) > values["logements"]:
            problems.append("plus de logements accessibles que de logements")
        if (code, typology) in seen:
            problems.append(f"{code} {typology} figure déjà plus haut dans le fichier")
        seen.add((code, typology))
        if problems:
            errors.append(f"ligne {number} : " + " ; ".join(problems))
            continue
        rows.append(
            {
                "commune_id": code,
                "typology": typology,
                "dwellings": values["logements"],
                "accessible_dwellings": values["logements_accessibles"] or 0,
                "allocations_12_months": values["attributions_12_mois"],
                "median_wait_months": values["delai_median_mois"],
                "reference_year": year,
            }
        )
    return rows, errors


def load(rows: list[dict]) -> tuple[int, int]:
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            key = {"commune_id": row["commune_id"], "typology": row["typology"]}
            _obj, was_created = CommuneStock.objects.update_or_create(**key, defaults=row)
            created += was_created
            updated += not was_created
    return created, updated


class Command(AuditedCommand):
    help = "Charge le parc social par commune et typologie depuis un fichier CSV (erreurs ligne par ligne)."
    audit_reason = "Chargement du parc social par commune"

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier CSV (UTF-8)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"Fichier introuvable : {path}") from None
        except UnicodeDecodeError:
            raise CommandError("Le fichier doit être encodé en UTF-8.") from None
        rows, errors = parse(text)
        if errors:
            for message in errors:
                self.stderr.write(message)
            raise CommandError(f"{len(errors)} ligne(s) en erreur : rien n'a été chargé.")
        created, updated = load(rows)
        self.stdout.write(f"{created} ligne(s) ajoutée(s), {updated} mise(s) à jour.")
