"""Measure how much audit data one typical case life leaves: history rows and bytes per table.

    python manage.py audit_growth            # one case, rolled back afterwards
    python manage.py audit_growth --cases 5  # average over five cases

Runs flag → rehoused with one refusal through the workflow services on the current database, in a
transaction that is rolled back (nothing stays unless --keep). Bytes: PostgreSQL's
pg_column_size of each row (heap tuple data, without indexes or page overhead); on SQLite, the sum
of the stored length of each column (an approximation of the same thing).
"""

from django.db import connection, transaction

from audit.chain import history_models
from audit.commands import AuditedCommand
from audit.models import AccessLog, AuditEntry
from bench.lifecycle import case_life, make_household, make_world


class _Rollback(Exception):
    pass


def _tables():
    """(label, model) of every table that grows with history: history, m2m history, audit."""
    seen = []
    for model in history_models():
        seen.append(model)
        for m2m_field in getattr(model, "_history_m2m_fields", ()):
            seen.append(getattr(model, m2m_field.name).model)
    return [(m._meta.label_lower, m) for m in [*seen, AuditEntry, AccessLog]]


def _high_water(model) -> int:
    return model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0


def _bytes(model, after_pk) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    if connection.vendor == "postgresql":
        sql = f"SELECT COALESCE(SUM(pg_column_size(t.*)), 0) FROM {table} t WHERE t.{pk} > %s"
    else:
        columns = " + ".join(
            f"COALESCE(LENGTH(CAST({connection.ops.quote_name(f.column)} AS BLOB)), 0)"
            for f in model._meta.concrete_fields
        )
        sql = f"SELECT COALESCE(SUM({columns}), 0) FROM {table} WHERE {pk} > %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [after_pk])
        return int(cursor.fetchone()[0])


class Command(AuditedCommand):
    help = "Mesure les lignes d'historique et les octets écrits par un parcours type (signalement → relogé, un refus)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=1, help="Nombre de parcours à mesurer (moyenne).")
        parser.add_argument("--keep", action="store_true", help="Garder les données créées (par défaut : annulées).")

    def handle(self, *args, cases=1, keep=False, **options):
        cases = max(1, cases)
        try:
            with transaction.atomic():
                result = self._measure(cases)
                if not keep:
                    raise _Rollback
        except _Rollback:
            pass
        self._report(result, cases)
        return None

    def _measure(self, cases: int):
        world = make_world("mesure")
        households = [make_household(world, n) for n in range(1, cases + 1)]
        tables = _tables()
        marks = {label: _high_water(model) for label, model in tables}
        for household in households:
            case_life(world, household)
        result = []
        for label, model in tables:
            rows = model._default_manager.filter(pk__gt=marks[label]).count()
            if rows:
                result.append((label, rows, _bytes(model, marks[label])))
        return result

    def _report(self, result, cases: int):
        self.stdout.write(f"Base : {connection.vendor}. Parcours type mesuré : {cases} (moyenne par dossier).")
        self.stdout.write(f"{'table':45} {'lignes':>8} {'octets':>10}")
        for label, rows, size in sorted(result):
            self.stdout.write(f"{label:45} {rows / cases:8.1f} {size / cases:10.0f}")
        audit = {AuditEntry._meta.label_lower, AccessLog._meta.label_lower}
        history = [(r, b) for label, r, b in result if label not in audit]
        chain = [(r, b) for label, r, b in result if label in audit]
        for title, part in (
            ("dont historique", history),
            ("dont chaîne d'audit", chain),
            ("TOTAL par dossier", result),
        ):
            rows = sum(p[-2] for p in part)
            size = sum(p[-1] for p in part)
            self.stdout.write(f"{title:45} {rows / cases:8.1f} {size / cases:10.0f}")
