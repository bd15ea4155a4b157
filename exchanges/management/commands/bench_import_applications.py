"""manage.py bench_import_applications [--lines 100000] [--keep]

Generates a register export of N fictitious lines (household plus 0 to 2 members), imports it with
the default mapping, and prints lines per second and memory: the peak resident size and the
resident size at each tenth of the file (flat when the import streams). Rolled back unless --keep.
"""

import csv
import random
import resource
import tempfile
import time
from pathlib import Path

from django.db import connection, transaction

from audit.commands import AuditedCommand
from cases.models import Commune
from exchanges import mappings
from exchanges.management.commands.import_applications import import_file


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def write_sample(path: Path, lines: int, communes: list[str], seed=21) -> None:
    mapping = mappings.get("registre@1")
    members = mapping.member_columns()[:2]
    header = list(mapping.columns.values()) + [h for m in members for h in m.values()]
    rng = random.Random(seed)
    situations = ["Hébergé", "CHRS", "Sans abri", "Locataire privé", "Hôtel"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        for i in range(lines):
            row = [
                f"0832401B{i // 100000:04d}{i % 100000:05d}Z",
                f"Fictif{i}",
                rng.choice(["Camille", "Sami", "Alex", "Lou"]),
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2004)}",
                "Nationalité française",
                f"06{i:08d}",
                "",
                f"{i} rue Imaginaire",
                rng.choice(communes),
                rng.choice(situations),
                f"01/{rng.randint(1, 12):02d}/2023",
                f"{rng.randint(0, 30000)},00",
                f"{rng.randint(0, 2000)},{rng.randint(0, 99):02d}",
                "607,75" if i % 3 == 0 else "0",
                "0",
                f"{rng.randint(0, 400)},00",
                "0",
            ]
            for n in range(rng.randint(0, 2)):
                row += [f"Enfant{n}", f"Fictif{i}", "Enfant", f"15/0{n + 1}/2015"]
            row += [""] * (len(header) - len(row))
            writer.writerow(row)


class Command(AuditedCommand):
    help = "Mesure l'import de demandes : lignes par seconde et mémoire (fichier généré, fictif)."
    audit_reason = "Mesure de l'import de demandes"

    def add_arguments(self, parser):
        parser.add_argument("--lines", type=int, default=100_000)
        parser.add_argument("--keep", action="store_true", help="garde les ménages importés (sinon annulé)")

    def handle(self, *args, **options):
        lines = options["lines"]
        communes = list(Commune.objects.values_list("pk", flat=True)[:50])
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "registre-bench.csv"
            write_sample(path, lines, communes)
            size = path.stat().st_size / 2**20
            samples = []
            step = max(lines // 10, 1)
            mapping = mappings.get("registre@1")
            start_rss = _rss_mib()
            started = time.perf_counter()
            with transaction.atomic():

                def watch(done):
                    if done >= step * (len(samples) + 1) or done == lines:
                        samples.append((done, _rss_mib()))

                result = import_file(path, mapping, also=watch)
                elapsed = time.perf_counter() - started
                if not options["keep"]:
                    transaction.set_rollback(True)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"{result.lines} lignes ({size:.1f} Mio, {connection.vendor}) en {elapsed:.1f} s : "
            f"{result.lines / elapsed:,.0f} lignes/s ; {result.created} créées, {result.rejected} rejetées."
        )
        self.stdout.write(
            f"Mémoire résidente : {start_rss:.0f} Mio au départ, pic {peak:.0f} Mio ; par dixième du fichier : "
            + ", ".join(f"{mib:.0f}" for _done, mib in samples)
            + " Mio."
        )
        self.stdout.write("Annulé (rien n'est gardé)." if not options["keep"] else "Ménages gardés (--keep).")
