"""Reference communes shipped with the product (Etalab data, see cases/data/README.md)."""

import csv
from pathlib import Path

COMMUNES_CSV = Path(__file__).parent / "data" / "epci_communes.csv"


def read_communes():
    with COMMUNES_CSV.open(encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def load_communes(Commune) -> int:
    """Insert or update the reference communes; returns how many rows the file holds."""
    count = 0
    for row in read_communes():
        Commune.objects.update_or_create(
            insee_code=row["commune_insee"],
            defaults={
                "name": row["commune_name"],
                "departement": row["departement"],
                "postal_codes": row["postal_codes"],
                "population": int(row["population"] or 0),
                "epci_siren": row["epci_siren"],
                "epci_name": row["epci_name"],
            },
        )
        count += 1
    return count
