"""manage.py bench_import_applications [--lines 100000] [--again] [--keep]

Generates a register export of N fictitious lines (household plus 0 to 2 members), imports it with
the default mapping, and prints lines per second and memory: the peak resident size and the
resident size at each tenth of the file (flat when the import streams). The deferred foreign-key
checks a commit would run are run before the roll back (counted in the time). Rolled back unless --keep.

The machine is shared: the load average is printed before and after, and the CPU seconds spent by
this process and by its PostgreSQL backend (when the database runs on this machine), which do not
depend on the load. `--again` imports the same file a second time (every line unchanged).
"""

import csv
import os
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


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _backend_cpu(pid) -> float | None:
    """CPU seconds of the PostgreSQL backend serving this connection (same machine only)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pid():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def write_sample(path: Path, lines: int, communes: list[str], seed=21, first=0) -> None:
    """`lines` fictitious lines; NUDs numbered from `first`."""
    mapping = mappings.get("registre@1")
    members = mapping.member_columns()[:2]
    header = list(mapping.columns.values()) + [h for m in members for h in m.values()]
    rng = random.Random(seed)
    situations = ["Hébergé", "CHRS", "Sans abri", "Locataire privé", "Hôtel"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        for i in range(first, first + lines):
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
        parser.add_argument("--again", action="store_true", help="importe ensuite le même fichier une seconde fois")
        parser.add_argument("--keep", action="store_true", help="garde les ménages importés (sinon annulé)")

    def handle(self, *args, **options):
        lines = options["lines"]
        communes = list(Commune.objects.values_list("pk", flat=True)[:50])
        pid = _backend_pid()
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "registre-bench.csv"
            write_sample(path, lines, communes)
            size = path.stat().st_size / 2**20
            mapping = mappings.get("registre@1")
            self.stdout.write(f"Charge de la machine avant : {_load()} (1, 5, 15 min ; {os.cpu_count()} cœurs).")
            with transaction.atomic():
                runs = [("import", self._run(path, mapping, lines, pid, size))]
                if options["again"]:
                    runs.append(("même fichier, seconde fois", self._run(path, mapping, lines, pid, size)))
                if not options["keep"]:
                    transaction.set_rollback(True)
        self.stdout.write(f"Charge de la machine après : {_load()}.")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"Mémoire résidente : pic {peak:.0f} Mio (processus entier).")
        self.stdout.write("Annulé (rien n'est gardé)." if not options["keep"] else "Ménages gardés (--keep).")

    def _run(self, path, mapping, lines, pid, size):
        samples = []
        step = max(lines // 10, 1)

        def watch(done):
            if done >= step * (len(samples) + 1) or done == lines:
                samples.append((done, _rss_mib()))

        start_rss = _rss_mib()
        cpu, backend = _cpu_seconds(), _backend_cpu(pid)
        started = time.perf_counter()
        result = import_file(path, mapping, also=watch)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the checks a commit would run
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
        backend = _backend_cpu(pid) - backend if backend is not None else None
        out = self.stdout
        out.write(
            f"{result.lines} lignes ({size:.1f} Mio, {connection.vendor}) en {elapsed:.1f} s : "
            f"{result.lines / elapsed:,.0f} lignes/s ; {result.created} créées, {result.updated} mises à jour, "
            f"{result.unchanged} inchangées, {result.rejected} rejetées."
        )
        spent = f"Temps processeur : Python {cpu:.1f} s"
        if backend is not None:
            spent += (
                f", PostgreSQL {backend:.1f} s ; {result.lines / (cpu + backend):,.0f} lignes par seconde de "
                "processeur (indépendant de la charge)"
            )
        out.write(spent + ".")
        out.write(
            f"Mémoire résidente : {start_rss:.0f} Mio au départ ; par dixième du fichier : "
            + ", ".join(f"{mib:.0f}" for _done, mib in samples)
            + " Mio."
        )
        return result
