"""The only allowed bulk writes on audited models: simple-history's *_with_history helpers, plus
the audit entries those helpers do not create (they send no post_create_historical_record signal).

tests/audit/test_guards.py fails on any QuerySet.update(), bulk_create() or bulk_update() on an
audited model outside this module.

Chaining is batched (`chain_history_ids`): the entries a batch of history rows needs are computed
in Python (case, row digest and hash chain per case) and written with one bulk insert, the chain
heads locked and updated in bulk. The entries are exactly those `audit.chain.chain_history_row`
would append for the same rows in the same order (tests/bench/test_bulk_chain.py compares both).
"""

import hashlib
import json
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from simple_history import utils as sh_utils
from simple_history.models import HistoricalRecords

from cases.audit import current_reason
from cases.models import Case, Proposal

from .chain import case_id_of, chain_history_rows, chain_or_collect, history_digest, row_digests
from .models import AuditChainHead, AuditEntry, Redaction, canonical_json, chain_key

CHUNK = 2000  # ids per IN (…) query: far below SQLite's and PostgreSQL's parameter limits


def _current_actor():
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


current_actor = _current_actor  # for callers building State rows (exchanges' imports)


def _chunks(items, size=CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- batched chaining ------------------------------------------------------------------------------


def _case_ids(history_model, rows: list[dict]) -> dict:
    """history_id → case id (or None), by the rules of audit.chain.case_id_of, a few queries per batch."""

    label = history_model.instance_type._meta.label_lower
    if not rows:
        return {}
    if label == "cases.case":
        return {r["history_id"]: r["id"] for r in rows}
    if label in ("guardian.groupobjectpermission", "guardian.userobjectpermission"):
        case_type = ContentType.objects.get_for_model(Case).pk
        return {r["history_id"]: int(r["object_pk"]) if r["content_type_id"] == case_type else None for r in rows}
    result = {}
    by_proposal = defaultdict(list)
    by_household = defaultdict(list)
    household_key = {"cases.household": "id", "cases.householdmember": "household_id"}.get(label)
    for r in rows:
        if r.get("case_id"):
            result[r["history_id"]] = r["case_id"]
        elif r.get("proposal_id"):
            by_proposal[r["proposal_id"]].append(r["history_id"])
        elif household_key and r.get(household_key) is not None:
            by_household[r[household_key]].append(r["history_id"])
        else:
            result[r["history_id"]] = None
    for ids in _chunks(list(by_proposal)):
        for proposal_id, case_id in Proposal.objects.filter(pk__in=ids).values_list("pk", "case_id"):
            for hid in by_proposal.pop(proposal_id):
                result[hid] = case_id
    for hids in by_proposal.values():  # proposal gone
        result.update(dict.fromkeys(hids))
    for ids in _chunks(list(by_household)):
        # Same ordering as case_id_of, in the database (NULL placement differs between backends).
        rows_ = Case.objects.filter(household_id__in=ids).order_by("household_id", "closed_at", "-created_at")
        first = {}
        for household_id, case_id in rows_.values_list("household_id", "pk"):
            first.setdefault(household_id, case_id)
        for household_id in ids:
            for hid in by_household[household_id]:
                result[hid] = first.get(household_id)
    return result


@dataclass
class _Row:
    source: str
    source_id: int
    case_id: int | None
    action: str
    actor_id: int | None
    occurred_at: datetime
    digest: str


def _load_rows(history_model, ids: list[int]) -> dict:
    """history_id → _Row, reading the rows (and their m2m history rows) as the database returns them."""
    label = history_model._meta.label_lower
    out = {}
    for chunk in _chunks(ids):
        rows = list(history_model._default_manager.filter(pk__in=chunk).values())
        m2m = defaultdict(lambda: defaultdict(list))
        for m2m_field in getattr(history_model, "_history_m2m_fields", ()):
            m2m_model = getattr(history_model, m2m_field.name).model
            for item in m2m_model._default_manager.filter(history_id__in=chunk).order_by("pk").values():
                m2m[item["history_id"]][m2m_field.name].append(item)
        cases = _case_ids(history_model, rows)
        for row in rows:
            hid = row["history_id"]
            data = {"row": row}
            for m2m_field in getattr(history_model, "_history_m2m_fields", ()):
                data[m2m_field.name] = m2m[hid][m2m_field.name]
            out[hid] = _Row(
                source=label,
                source_id=hid,
                case_id=cases[hid],
                action=row["history_type"],
                actor_id=row["history_user_id"],
                occurred_at=row["history_date"],
                digest=history_digest(data),
            )
    return out


# Field classes whose Python values psycopg's COPY adapts as they are; other fields (JSON, viewflow's
# flow and task references, tokens) go through their get_db_prep_save.
_PLAIN_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.IntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.DateField,
    models.DecimalField,
    models.ForeignKey,
)


def _converters(fields):
    """Per field, how a Python value becomes what COPY writes (None: as it is)."""
    result = []
    for f in fields:
        if isinstance(f, _PLAIN_FIELDS) and type(f).__module__.startswith("django."):
            result.append(None)
        elif isinstance(f, models.JSONField):
            result.append(lambda v, f=f: f.get_db_prep_save(v, connection))
        else:
            result.append(_memoised(lambda v, f=f: f.get_db_prep_save(v, connection)))
    return result


def _memoised(convert):
    # viewflow's references (a flow class, a node, a token) are few distinct values, costly to convert.
    cache = {}

    def run(value):
        try:
            return cache[value]
        except KeyError:
            cache[value] = result = convert(value)
            return result
        except TypeError:  # unhashable
            return convert(value)

    return run


def _reserve_ids(model, count: int) -> list[int]:
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [value for (value,) in cursor.fetchall()]


def _copy(model, fields, rows) -> None:
    """COPY rows (lists of Python values in `fields` order) into the model's table (PostgreSQL)."""
    converters = _converters(fields)
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    convert = [(i, c) for i, c in enumerate(converters) if c is not None]
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            for i, c in convert:
                row[i] = c(row[i])
            copy.write_row(row)


def insert_rows(model, objs, fields=None) -> None:
    """Insert model instances as bulk_create does (primary keys set on the objects), through
    PostgreSQL's COPY when available: several times faster than multi-row INSERTs for the generator's
    millions of rows. No signals, no history: callers are the helpers of this module and non-audited
    tables (viewflow's)."""
    if not objs:
        return
    meta = model._meta
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=CHUNK)
        return
    fields = fields or list(meta.local_concrete_fields)
    pk = meta.pk
    if pk in fields and isinstance(pk, models.AutoField):
        missing = [o for o in objs if getattr(o, pk.attname) is None]
        for obj, value in zip(missing, _reserve_ids(model, len(missing)) if missing else [], strict=True):
            setattr(obj, pk.attname, value)
    getters = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            getters.append(lambda o, f=f: f.pre_save(o, True))
        else:
            getters.append(lambda o, name=f.attname: getattr(o, name))
    _copy(model, fields, ([get(obj) for get in getters] for obj in objs))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_dicts(model, rows: list[dict]) -> list[int]:
    """Insert rows given as {attname: value} (no model instances: the generator writes millions of
    history rows); sets and returns their primary keys. Same caveats as insert_rows."""
    if not rows:
        return []
    meta = model._meta
    if connection.vendor != "postgresql":
        objs = model._default_manager.bulk_create([model(**r) for r in rows], batch_size=CHUNK)
        for row, obj in zip(rows, objs, strict=True):
            row[meta.pk.attname] = obj.pk
        return [o.pk for o in objs]
    ids = _reserve_ids(model, len(rows))
    fields = list(meta.local_concrete_fields)
    names = [f.attname for f in fields]
    pk_name = meta.pk.attname
    for row, pk in zip(rows, ids, strict=True):
        row[pk_name] = pk
    _copy(model, fields, ([row.get(n) for n in names] for row in rows))
    return ids


def _lock_heads(keys) -> dict:
    """chain → [seq, hash] of the chains' heads, created if missing, locked until commit."""
    keys = sorted(keys)
    heads = {}
    for chunk in _chunks(keys):
        AuditChainHead.objects.bulk_create([AuditChainHead(chain=k) for k in chunk], ignore_conflicts=True)
        qs = AuditChainHead.objects.filter(chain__in=chunk).order_by("chain")
        if connection.features.has_select_for_update:
            qs = qs.select_for_update()
        heads.update({h.chain: [h.seq, h.hash] for h in qs})
    return heads


def _update_heads(heads: dict) -> None:
    items = [AuditChainHead(chain=k, seq=s, hash=h) for k, (s, h) in heads.items()]
    if connection.vendor != "postgresql":
        AuditChainHead.objects.bulk_update(items, ["seq", "hash"], batch_size=CHUNK)
        return
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    for chunk in _chunks(items):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS h SET seq = v.seq, hash = v.hash "
                "FROM unnest(%s::varchar[], %s::bigint[], %s::varchar[]) AS v(chain, seq, hash) "
                "WHERE h.chain = v.chain",
                [[i.chain for i in chunk], [i.seq for i in chunk], [i.hash for i in chunk]],
            )


def chain_history_ids(pairs) -> int:
    """Append one AuditEntry per history row, in the order given: `pairs` is (history model, history
    id) tuples. Equivalent to calling chain_history_row on each row in that order. Returns the count."""
    pairs = list(pairs)
    if not pairs:
        return 0
    by_model = defaultdict(list)
    for model, hid in pairs:
        by_model[model].append(hid)
    loaded = {model: _load_rows(model, ids) for model, ids in by_model.items()}
    return _append([loaded[model][hid] for model, hid in pairs])


_deferred = threading.local()


@contextmanager
def chained_on_exit():
    """For a long transaction (a file import): the rows the bulk helpers write in the block are linked
    to their chains once, as it ends, instead of batch by batch. A head stays locked from its first
    entry until the commit: linked at the end, the global chain's head (shared by every writer of
    rows outside a case) is held for the import's last seconds, not its whole length."""
    if getattr(_deferred, "rows", None) is not None:
        yield  # nested: the outermost block links
        return
    _deferred.rows, _deferred.seen = [], set()
    try:
        yield
        rows = _deferred.rows
        _deferred.rows = None
        _append(rows)
    finally:
        _deferred.rows = _deferred.seen = None


def _append(rows: list[_Row]) -> int:
    """Link rows to their chains, in order: the heads locked, entries and hashes computed here.

    The case chains first, the global chain (shared by every writer) last: its head stays locked for
    the shortest time. Inside `chained_on_exit`, the rows wait for the block's end (each row once)."""
    waiting = getattr(_deferred, "rows", None)
    if waiting is not None:
        new = [r for r in rows if (r.source, r.source_id) not in _deferred.seen]
        _deferred.seen.update((r.source, r.source_id) for r in new)
        waiting.extend(new)
        return len(new)
    if not rows:
        return 0
    with transaction.atomic():
        shared = [r for r in rows if r.case_id is None]
        own = [r for r in rows if r.case_id is not None] if shared else rows
        count = 0
        for part in (own, shared):
            if part:
                heads = _lock_heads({chain_key(r.case_id) for r in part})
                count += _link(part, heads)
    return count


def _link(rows, heads) -> int:
    entries = []
    for r in rows:
        key = chain_key(r.case_id)
        head = heads[key]
        entry = SimpleNamespace(
            chain=key,
            seq=head[0] + 1,
            case_id=r.case_id,
            source=r.source,
            source_id=str(r.source_id),
            action=r.action,
            actor_id=r.actor_id,
            occurred_at=r.occurred_at,
            row_digest=r.digest,
            prev_hash=head[1],
        )
        # AuditEntry.compute_hash, without building a model instance per entry.
        entry.hash = hashlib.sha256(canonical_json(AuditEntry.content(entry)).encode()).hexdigest()
        head[0], head[1] = entry.seq, entry.hash
        entries.append(vars(entry))
    insert_dicts(AuditEntry, entries)
    _update_heads(heads)
    return len(entries)


def _chain_new_rows(model, pks):
    """Chain the history rows of these objects that no entry points at yet, oldest first."""
    history = model.history.model
    label = history._meta.label_lower
    pk_name = model._meta.pk.attname
    ids = []
    for chunk in _chunks(list(pks)):
        ids += history.objects.filter(**{f"{pk_name}__in": chunk}).values_list("history_id", flat=True)
    done = set()
    for chunk in _chunks([str(i) for i in ids]):
        done |= set(AuditEntry.objects.filter(source=label, source_id__in=chunk).values_list("source_id", flat=True))
    chain_history_ids((history, hid) for hid in sorted(ids) if str(hid) not in done)


def bulk_create_with_history(objs, model, *, reason: str, **kwargs):
    with transaction.atomic():
        created = sh_utils.bulk_create_with_history(
            objs, model, default_user=_current_actor(), default_change_reason=reason, **kwargs
        )
        _chain_new_rows(model, [o.pk for o in created])
    return created


def bulk_update_with_history(objs, model, fields, *, reason: str, **kwargs):
    with transaction.atomic():
        count = sh_utils.bulk_update_with_history(
            objs, model, fields, default_user=_current_actor(), default_change_reason=reason, **kwargs
        )
        _chain_new_rows(model, [o.pk for o in objs])
    return count


# --- anonymisation of history rows -----------------------------------------------------------------


def redact_history_rows(history_model, changes: dict, *, rule: str, actor_id=None) -> int:
    """Overwrite some columns of some history rows and record, for each row whose content changed,
    a Redaction (its digest before and after) chained after the row's own entry.

    `changes`: {history_id: {column attname: new value}}. The only way to alter a history row that
    verify_chain accepts. Callers hold the transaction (a failure undoes rows and redactions together).
    Returns the number of rows changed.
    """
    if not changes:
        return 0
    label = history_model._meta.label_lower
    m2m = {f.name: getattr(history_model, f.name).model for f in getattr(history_model, "_history_m2m_fields", ())}
    pks = list(changes)
    before = row_digests(history_model, pks)
    objs = list(history_model._default_manager.filter(pk__in=pks))
    listed = {  # rows whose m2m history lists hold something: one query per list
        name: set(through._default_manager.filter(history_id__in=pks).values_list("history_id", flat=True))
        for name, through in m2m.items()
        if any(name in change for change in changes.values())
    }
    touched, columns, emptied = [], set(), defaultdict(list)
    for obj in objs:
        dirty = {}
        for name, value in changes[obj.pk].items():
            if name in m2m:  # an m2m list of the row: only emptying it is supported
                if value:
                    raise ValueError("an m2m history list can only be emptied")
                if obj.pk in listed[name]:
                    dirty[name] = value
                    emptied[name].append(obj.pk)
            elif getattr(obj, name) != value:
                dirty[name] = value
                setattr(obj, name, value)
        if dirty:
            touched.append((obj, sorted(dirty)))
            columns |= {name for name in dirty if name not in m2m}
    if not touched:
        return 0
    with transaction.atomic():  # the rows, their redactions and entries: all or nothing
        if columns:
            history_model._default_manager.bulk_update(
                [obj for obj, names in touched if set(names) & columns], sorted(columns), batch_size=500
            )
        for name, ids in emptied.items():
            for chunk in _chunks(ids):
                m2m[name]._default_manager.filter(history_id__in=chunk).delete()
        after = row_digests(history_model, [obj.pk for obj, _names in touched])
        entries = dict(
            AuditEntry.objects.filter(source=label, source_id__in=[str(obj.pk) for obj, _n in touched]).values_list(
                "source_id", "case_id"
            )
        )
        now = timezone.now()
        redactions = []
        for obj, names in touched:
            if before[obj.pk] == after[obj.pk]:
                continue  # the database stores it the same way (e.g. a date given as a string)
            case_id = entries[str(obj.pk)] if str(obj.pk) in entries else case_id_of(obj)
            redactions.append(
                Redaction(
                    source=label,
                    source_id=str(obj.pk),
                    case_id=case_id,
                    digest_before=before[obj.pk],
                    digest_after=after[obj.pk],
                    fields=",".join(names),
                    rule=rule[:100],
                    actor_id=actor_id,
                    at=now,
                )
            )
        Redaction.objects.bulk_create(redactions)
        chain_history_rows(redactions)
    return len(redactions)


# --- inserting objects with the history of the states they went through ---------------------------


@dataclass
class State:
    """One history row of an object: what changed (relative to the final object), when, who, why.

    The last state of an object must carry no `changes`: it is the row as inserted.
    """

    history_type: str
    date: datetime
    user_id: int | None
    reason: str
    changes: dict = field(default_factory=dict)


@dataclass
class HistoryBatch:
    """History rows written by `bulk_create_with_states`, chained together by `chain()`: in date order
    (a case's chain reads as its life did, whatever the order the tables were filled in), each row's
    case found at that time (a household's rows join the case written after it in the same batch)."""

    pending: list = field(default_factory=list)  # (date, seq, history model, stored row)

    def add(self, history, stored_rows):
        for row in stored_rows:
            self.pending.append((row["history_date"], len(self.pending), history, row))

    def chain(self) -> int:
        if not self.pending:
            return 0
        self.pending.sort(key=lambda item: (item[0], item[1]))
        by_model = defaultdict(list)
        for _date, _seq, history, row in self.pending:
            by_model[history].append(row)
        cases = {history: _case_ids(history, rows) for history, rows in by_model.items()}
        m2m = {h: [f.name for f in getattr(h, "_history_m2m_fields", ())] for h in by_model}
        rows = []
        for _date, _seq, history, row in self.pending:
            data = {"row": row} | {name: [] for name in m2m[history]}  # new history rows: no m2m rows yet
            rows.append(
                _Row(
                    source=history._meta.label_lower,
                    source_id=row["history_id"],
                    case_id=cases[history][row["history_id"]],
                    action=row["history_type"],
                    actor_id=row["history_user_id"],
                    occurred_at=row["history_date"],
                    digest=history_digest(data),
                )
            )
        self.pending = []
        return _append(rows)


_NORMALISERS = {}


def _normalisers(model):
    """Per column of a history table, how a value written becomes the value the database returns
    (what row_digest hashes): decimals at their scale, custom fields through their own conversion."""
    if model in _NORMALISERS:
        return _NORMALISERS[model]
    result = []
    for f in model._meta.concrete_fields:
        if isinstance(f, models.DecimalField):
            quantum = Decimal(1).scaleb(-f.decimal_places)
            result.append((f.attname, lambda v, q=quantum: None if v is None else Decimal(v).quantize(q)))
        elif isinstance(f, _PLAIN_FIELDS) and type(f).__module__.startswith("django."):
            result.append((f.attname, None))
        else:
            result.append((f.attname, lambda v, f=f: f.to_python(f.get_prep_value(v))))
    _NORMALISERS[model] = result
    return result


def _as_stored(history, rows: list[dict]) -> list[dict]:
    """History rows just written, as the database returns them (what row_digest reads back)."""
    normalisers = _normalisers(history)
    return [{name: (fn(row.get(name)) if fn else row.get(name)) for name, fn in normalisers} for row in rows]


def _insert_mti(objs, model):
    """Multi-table inheritance (CaseProcess < viewflow Process): Django's bulk_create refuses it, so
    the parent rows and the child rows are inserted one table after the other."""
    parent = model._meta.get_parent_list()[-1]
    parent_fields = [f for f in parent._meta.concrete_fields if not f.primary_key]
    parents = [parent(**{f.attname: getattr(o, f.attname) for f in parent_fields}) for o in objs]
    insert_rows(parent, parents)
    for obj, parent_obj in zip(objs, parents, strict=True):
        setattr(obj, parent._meta.pk.attname, parent_obj.pk)
        obj.pk = parent_obj.pk
    if connection.vendor == "postgresql":
        insert_rows(model, objs)
        return
    child_fields = list(model._meta.local_concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in child_fields)
    for chunk in _chunks(objs, 200):
        values = ", ".join(["(" + ", ".join(["%s"] * len(child_fields)) + ")"] * len(chunk))
        params = [f.get_db_prep_save(getattr(o, f.attname), connection) for o in chunk for f in child_fields]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values}", params)
    for obj in objs:
        obj._state.adding = False


def bulk_create_with_states(objs, model, states, *, batch: HistoryBatch | None = None, batch_size=CHUNK):
    """Insert `objs` (in their final state) and, for each, one history row per entry of its `states`
    (see `State`). Chained at once, or by `batch.chain()` when a batch is given."""
    with transaction.atomic():
        if model._meta.get_parent_list():
            _insert_mti(objs, model)
        else:
            insert_rows(model, objs)
        history = model.history.model
        tracked = [f.attname for f in history.tracked_fields]
        rows = []
        for obj, obj_states in zip(objs, states, strict=True):
            if obj_states and obj_states[-1].changes:
                raise ValueError("the last state of an object is the object itself (no changes)")
            base = {name: getattr(obj, name) for name in tracked}
            for state in obj_states:
                row = base | state.changes
                row["history_date"] = state.date or timezone.now()
                row["history_user_id"] = state.user_id
                row["history_change_reason"] = state.reason[:100]
                row["history_type"] = state.history_type
                rows.append(row)
        insert_dicts(history, rows)
        own = batch or HistoryBatch()
        own.add(history, _as_stored(history, rows))
        if batch is None:
            own.chain()
    return objs


# --- one transition's delta: rows created and deleted in bulk, each with its history row -------------


def _history_rows(model, objs, history_type: str, reason: str, when) -> list:
    history = model.history.model
    actor = _current_actor()
    reason = reason or current_reason()
    fields = [f.attname for f in history.tracked_fields]
    return [
        history(
            **{name: getattr(obj, name) for name in fields},
            history_date=when,
            history_type=history_type,
            history_user_id=getattr(actor, "pk", None),
            history_change_reason=(reason or "")[:100],
        )
        for obj in objs
    ]


def _collect_for_chain(rows) -> None:
    # The rows join their case's chain like any history row: in the enclosing chained_at_end batch
    # (a workflow transition), or at once.
    for row in rows:
        chain_or_collect(row)


def create_with_history(objs, model, *, reason: str = "") -> list:
    """Insert `objs` and their '+' history rows in two statements, chained with the transaction's other
    history rows (audit.chain.chained_at_end): what `obj.save()` per object writes, in bulk."""
    objs = list(objs)
    if not objs:
        return []
    with transaction.atomic(savepoint=False):
        model._default_manager.bulk_create(objs)
        rows = model.history.model._default_manager.bulk_create(_history_rows(model, objs, "+", reason, timezone.now()))
        _collect_for_chain(rows)
    return objs


def delete_with_history(objs, model, *, reason: str = "") -> int:
    """Delete `objs` (read just before, in this transaction) and write their '-' history rows, in two
    statements, chained like `create_with_history`'s. No delete signals are sent: only for models
    whose deletion has no other receiver than their history (guardian's grant rows)."""
    objs = list(objs)
    if not objs:
        return 0
    with transaction.atomic(savepoint=False):
        rows = model.history.model._default_manager.bulk_create(_history_rows(model, objs, "-", reason, timezone.now()))
        # _raw_delete: one DELETE without collecting (which would send a post_delete, hence a history
        # row, per object): the history rows are the ones above.
        deleted = model._default_manager.filter(pk__in=[o.pk for o in objs])._raw_delete(connection.alias)
        _collect_for_chain(rows)
    return deleted


_GRANT_DELTA_SQL = """
WITH w (name, permission_id) AS (SELECT * FROM unnest(%(names)s::varchar[], %(perms)s::integer[])),
made AS (
    INSERT INTO {group} (name)
    SELECT DISTINCT w.name FROM w WHERE NOT EXISTS (SELECT 1 FROM {group} g WHERE g.name = w.name)
    ON CONFLICT DO NOTHING
    RETURNING id, name
),
g AS (SELECT id, name FROM made UNION ALL SELECT id, name FROM {group} WHERE name = ANY(%(names)s::varchar[])),
want AS (SELECT DISTINCT g.id AS group_id, w.permission_id FROM w JOIN g ON g.name = w.name),
gone AS (
    DELETE FROM {grant} o
    WHERE o.content_type_id = %(ct)s AND o.object_pk = %(pk)s AND o.permission_id = ANY(%(managed)s::integer[])
      AND NOT EXISTS (SELECT 1 FROM want WHERE want.group_id = o.group_id AND want.permission_id = o.permission_id)
      AND (SELECT count(*) FROM want) = %(count)s
    RETURNING o.id, o.object_pk, o.permission_id, o.content_type_id, o.group_id
),
added AS (
    INSERT INTO {grant} (permission_id, content_type_id, object_pk, group_id)
    SELECT want.permission_id, %(ct)s, %(pk)s, want.group_id FROM want
    WHERE NOT EXISTS (
        SELECT 1 FROM {grant} o WHERE o.content_type_id = %(ct)s AND o.object_pk = %(pk)s
          AND o.group_id = want.group_id AND o.permission_id = want.permission_id
    ) AND (SELECT count(*) FROM want) = %(count)s
    ORDER BY want.group_id, want.permission_id
    ON CONFLICT DO NOTHING
    RETURNING id, object_pk, permission_id, content_type_id, group_id
),
delta AS (
    SELECT 1 AS step, '-' AS history_type, * FROM gone UNION ALL SELECT 2, '+', * FROM added
),
h AS (
    INSERT INTO {history} (id, object_pk, permission_id, content_type_id, group_id,
                           history_date, history_change_reason, history_type, history_user_id)
    SELECT id, object_pk, permission_id, content_type_id, group_id, %(when)s, %(reason)s, history_type, %(user)s
    FROM delta ORDER BY step, group_id, permission_id
    RETURNING history_id, id, object_pk, permission_id, content_type_id, group_id, history_type
)
SELECT (SELECT count(*) FROM want), (SELECT coalesce(json_agg(h ORDER BY h.history_id), '[]') FROM h)
"""


def replace_group_grants(*, content_type_id: int, object_pk: str, managed: list[int], wanted, reason: str = ""):
    """PostgreSQL: make the object's group grants among the `managed` permission ids exactly `wanted`
    ((group name, permission id) pairs; missing groups are created), with a history row per grant
    deleted or created, in ONE statement (data-modifying CTEs: no read of the current grants, no
    read-back). The history rows join the transaction's chain like create_with_history's.

    Returns False, having written no grant, when a wanted group could not be found nor created in this
    statement's snapshot (another transaction creating it at the same moment): the caller then takes
    the path that reads the rows."""
    from guardian.models import GroupObjectPermission

    history = GroupObjectPermission.history.model
    quote = connection.ops.quote_name
    actor = _current_actor()
    when = timezone.now()
    reason = ((reason or current_reason()) or "")[:100]
    wanted = sorted(set(wanted))
    sql = _GRANT_DELTA_SQL.format(
        group=quote("auth_group"),
        grant=quote(GroupObjectPermission._meta.db_table),
        history=quote(history._meta.db_table),
    )
    params = {
        "names": [name for name, _perm in wanted],
        "perms": [perm for _name, perm in wanted],
        "ct": content_type_id,
        "pk": object_pk,
        "managed": list(managed),
        "count": len(wanted),
        "when": when,
        "reason": reason,
        "user": getattr(actor, "pk", None),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found, written = cursor.fetchone()
    if found != len(wanted):  # nothing deleted nor inserted (the guards on `want`)
        return False
    if isinstance(written, str):  # psycopg decodes json; other drivers may not
        written = json.loads(written)
    _collect_for_chain(
        [
            history(
                **{k: row[k] for k in ("history_id", "id", "object_pk", "permission_id", "content_type_id")},
                group_id=row["group_id"],
                history_type=row["history_type"],
                history_date=when,
                history_change_reason=reason,
                history_user_id=getattr(actor, "pk", None),
            )
            for row in written
        ]
    )
    return True
