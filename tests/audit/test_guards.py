"""Completeness guards: no history-blind bulk writes in the code, and one history row per write.

Rule of the static guard (application code: every .py file of the project outside tests/,
migrations and the virtualenv; audit/bulk.py is the one allowed place). A call
`<expr>.update(...)`, `<expr>.bulk_create(...)` or `<expr>.bulk_update(...)` is refused when <expr>,
read from the left, starts at
  1. the class name of an audited model (`Case.objects.filter(...).update(...)`,
     `Proposal._default_manager.bulk_create(...)`, `Case.history.update(...)`), or
  2. a name assigned in the same module from such an expression (`qs = Case.objects.filter(...)`
     then `qs.update(...)`),
or passes through the name of a related manager leading to an audited model (`case.proposals
.update(...)`, `household.members.filter(...).update(...)`). A dict's `.update()` never matches.
"""

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import ForeignObjectRel

from audit.chain import history_models
from cases import choices
from tests.workflows import steps
from workflows import services

BULK_METHODS = {"update", "bulk_create", "bulk_update"}
ALLOWED_FILES = {"audit/bulk.py"}
SKIPPED_PARTS = {"tests", "migrations", ".venv", "node_modules", "__pycache__"}


def audited_names():
    """Class names of audited models, and accessor names of relations leading to them."""
    models_ = {hm.instance_type for hm in history_models()}
    classes = {m.__name__ for m in models_}
    accessors = set()
    for model in models_:
        for field in model._meta.get_fields():
            if isinstance(field, ForeignObjectRel) and not field.hidden and field.related_model in models_:
                accessors.add(field.get_accessor_name())
            if field.many_to_many and not isinstance(field, ForeignObjectRel):
                pass  # an m2m manager's .update() does not exist; .add/.set send m2m_changed
    return classes, accessors


def _chain(node):
    """The names along `a.b(...).c.d(...)`, root first, and the root node."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            break
    root = node.id if isinstance(node, ast.Name) else None
    return root, list(reversed(names))


def violations(source: str, classes: set, accessors: set) -> list[int]:
    tree = ast.parse(source)

    def audited(expr, tainted):
        root, names = _chain(expr)
        if root in classes or root in tainted:
            return True
        return any(name in accessors for name in names)

    tainted: set = set()
    for node in ast.walk(tree):  # names bound to an audited queryset anywhere in the module
        if isinstance(node, ast.Assign) and audited(node.value, set()):
            tainted |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in BULK_METHODS
            and audited(node.func.value, tainted)
        ):
            lines.append(node.lineno)
    return sorted(lines)


SAMPLE = """
Case.objects.filter(pk=1).update(status="x")
Case.objects.bulk_create([])
HouseholdMember._default_manager.bulk_update([], ["first_name"])
case.proposals.update(notified_on=None)
qs = Diagnostic.objects.filter(case=c)
qs.update(urgency="high")
household.members.filter(pregnancy=True).update(pregnancy=False)
Case.history.filter(id=1).update(status="x")
data = {}
data.update(a=1)
Task.objects.filter(pk=1).update(status="x")
form.cleaned_data.update({"a": 1})
Case.objects.filter(pk=1).exists()
"""


def test_the_guard_finds_what_it_must_and_only_that():
    classes, accessors = audited_names()
    assert {"Case", "Household", "HouseholdMember", "Diagnostic", "GroupObjectPermission"} <= classes
    assert {"proposals", "members", "criteria"} <= accessors
    assert violations(SAMPLE, classes, accessors) == [2, 3, 4, 5, 7, 8, 9]


def test_no_history_blind_bulk_write_on_audited_models():
    classes, accessors = audited_names()
    root = Path(settings.BASE_DIR)
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIPPED_PARTS & set(relative.parts) or relative.as_posix() in ALLOWED_FILES:
            continue
        for line in violations(path.read_text(encoding="utf-8"), classes, accessors):
            found.append(f"{relative}:{line}")
    assert found == [], "use audit.bulk.*_with_history or save() on audited models: " + ", ".join(found)


# --- one history row per write, on the service path ------------------------------------------------

WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?', re.IGNORECASE)


ROW_FILTER = re.compile(r'WHERE\s+"?\w+"?\."?(\w+)"?\s*=\s*%s\s*$', re.IGNORECASE)


class WriteCounter:
    """Counts rows written on audited tables, and history rows, from the SQL actually sent.

    An UPDATE that leaves its row exactly as it was is not a change: it is counted apart
    (`unchanged`), since identical consecutive history rows are deliberately not written.
    """

    def __init__(self):
        self.audited = {}  # base table -> its history table
        self.history = set()
        self.mti_children = set()
        self.kept_columns = {}
        for hm in history_models():
            self.history.add(hm._meta.db_table)
            model = hm.instance_type
            parents = model._meta.get_parent_list()
            if parents:
                # Multi-table inheritance (CaseProcess < viewflow Process): one save writes both
                # tables and the state lives in the parent's; the parent's table is the row.
                self.mti_children.add(model._meta.db_table)
                self.audited[parents[-1]._meta.db_table] = hm._meta.db_table
            else:
                self.audited[model._meta.db_table] = hm._meta.db_table
                # A change of a column the history leaves out (a derived copy) is no audited change.
                self.kept_columns[model._meta.db_table] = ", ".join(f'"{f.column}"' for f in hm.tracked_fields)
            for field in getattr(hm, "_history_m2m_fields", ()):
                self.audited[field.remote_field.through._meta.db_table] = hm._meta.db_table
        self.writes = {}  # table -> rows changed
        self.history_by_table = {}
        self.unchanged = {}
        self.multi_row = []

    def _row(self, context, table, sql, params):
        match = ROW_FILTER.search(sql)
        if not match or not params:
            return None
        with context["connection"].cursor() as cursor:
            columns = self.kept_columns.get(table, "*")
            cursor.execute(f'SELECT {columns} FROM "{table}" WHERE "{match.group(1)}" = %s', [params[-1]])
            return cursor.fetchall()

    def __call__(self, execute, sql, params, many, context):
        match = WRITE.match(sql)
        table = match.group(2) if match else None
        tracked = table in self.audited
        verb = match.group(1).split()[0].upper() if match else ""
        before = self._row(context, table, sql, params) if tracked and verb == "UPDATE" else None
        result = execute(sql, params, many, context)
        if not match:
            return result
        if verb == "INSERT":
            # rowcount is not reliable before an INSERT … RETURNING is fetched: count the rows sent.
            rowcount = _inserted_rows(sql, params)
        else:
            rowcount = context["cursor"].rowcount
        if table in self.history:
            self.history_by_table[table] = self.history_by_table.get(table, 0) + rowcount
        elif tracked and rowcount:
            if before is not None and before == self._row(context, table, sql, params):
                self.unchanged[table] = self.unchanged.get(table, 0) + 1
            else:
                self.writes[table] = self.writes.get(table, 0) + rowcount
            if rowcount > 1:
                self.multi_row.append(sql)
        return result

    @property
    def history_rows(self):
        return sum(self.history_by_table.values())

    @property
    def audited_writes(self):
        return sum(self.writes.values())


def _inserted_rows(sql, params) -> int:
    """Rows an INSERT sends: the length of the arrays of PostgreSQL's UNNEST form of bulk_create, else
    the parameters over the columns named (one %s per column and row, as Django writes them)."""
    if not params:
        return 1
    if "UNNEST" in sql.upper():
        return len(params[0])
    columns = sql[sql.index("(") + 1 : sql.index(")")].count(",") + 1
    return max(1, len(params) // columns)


def _run(world, counter, by, step, *args, **kwargs):
    """Run one service step and check every history row it wrote names its actor and a reason."""
    marks = {hm: hm.objects.order_by("-pk").values_list("pk", flat=True).first() or 0 for hm in history_models()}
    with connection.execute_wrapper(counter):
        result = step(*args, **kwargs)
    for hm, mark in marks.items():
        for row in hm.objects.filter(pk__gt=mark):
            assert row.history_user_id == by.pk, (hm, row.history_type, row.history_user_id)
            assert row.history_change_reason, hm
    return result


def _committee_decides(world, counter, case, values):
    """The committee decides by written procedure, each service call checked as its own actor's."""
    from committees import services as committee_services
    from committees.scripted import choice_for

    committee = steps.committee(world, case)  # set up once, outside the measured steps
    secretary = steps.secretary(world)
    procedure = _run(
        world,
        counter,
        secretary,
        committee_services.procedure_open,
        actor=secretary,
        committee=committee,
        case=case,
        deadline=date(2099, 1, 31),
    )
    for seat in committee.members.filter(has_vote=True, is_active=True).select_related("user"):
        _run(
            world,
            counter,
            seat.user,
            committee_services.procedure_vote,
            actor=seat.user,
            procedure=procedure,
            choice=choice_for(values),
        )
    _run(
        world,
        counter,
        secretary,
        committee_services.procedure_close,
        actor=secretary,
        procedure=procedure,
        values=values,
    )
    case.refresh_from_db()
    return case


@pytest.mark.django_db
def test_history_rows_equal_writes_on_the_service_suite(world):
    counter = WriteCounter()
    household, household2 = world.household(), world.household()
    sw, landlord = world.social_worker, world.landlord_agent

    # flag → rehoused with one refusal
    case = _run(world, counter, sw, world.flag, household)
    case = _run(world, counter, sw, steps.diagnose, world, case)
    case = _committee_decides(world, counter, case, steps.label_values(world))
    case = _run(world, counter, landlord, steps.propose, world, case)
    case = _run(world, counter, landlord, steps.allocate, world, case)
    case = _run(world, counter, landlord, steps.refuse, world, case)
    case = _run(world, counter, landlord, steps.propose, world, case, world.dwelling2)
    case = _run(world, counter, landlord, steps.allocate, world, case)
    case = _run(world, counter, landlord, steps.accept, world, case)
    case = _run(world, counter, landlord, steps.sign, world, case)
    assert case.status == choices.CaseStatus.CLOSED

    # adjourn, then close
    other = _run(world, counter, sw, world.flag, household2)
    other = _run(world, counter, sw, steps.diagnose, world, other)
    other = _committee_decides(
        world,
        counter,
        other,
        {
            "outcome": choices.CommitteeOutcome.ADJOURNED,
            "missing_items": "Avis d'imposition",
            "adjourned_until": date(2099, 1, 15),
        },
    )
    other = _run(world, counter, sw, steps.diagnose, world, other)
    other = _run(
        world,
        counter,
        sw,
        services.case_close,
        actor=sw,
        case=other,
        reason=choices.ClosureReason.WITHDRAWN,
        comment="Ne donne plus suite.",
    )
    assert other.status == choices.CaseStatus.CLOSED

    # Several rows in one statement only where a transition writes its grant delta in bulk (audit.bulk),
    # each row counted (_inserted_rows, the DELETE's rowcount): the ratio below compares rows with rows.
    assert {WRITE.match(sql).group(2) for sql in counter.multi_row} <= {"guardian_groupobjectpermission"}
    assert counter.audited_writes > 50
    ratio = counter.history_rows / counter.audited_writes
    print(f"history rows {counter.history_rows} / writes {counter.audited_writes} = {ratio:.2f}")
    print(f"unchanged rows re-saved (no history row, by design): {counter.unchanged}")
    assert ratio == 1.0, (counter.writes, counter.history_by_table)
    # Table by table too: a missing row on one table cannot hide behind an extra one elsewhere.
    per_history_table = {}
    for table, rows in counter.writes.items():
        per_history_table[counter.audited[table]] = per_history_table.get(counter.audited[table], 0) + rows
    assert per_history_table == counter.history_by_table
    assert counter.writes["viewflow_process"] == 4  # the process table is counted (as CaseProcess rows)
