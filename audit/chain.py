"""The tamper-evident chain: one AuditEntry per history row and per read, linked per case by hash.

Writers serialise on the chain's head row (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises
every write anyway), so two transactions writing on the same case never fork its chain; the unique
(chain, seq) constraint is the backstop.
"""

import hashlib
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from itertools import islice

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from cases import txmarks
from cases.models import Case, Proposal

from .models import AccessLog, AuditChainHead, AuditEntry, Redaction, canonical_json, chain_key


def history_models():
    """Every history model of the project (cases, permissions, workflows, grants, later apps)."""
    return [m for m in apps.get_models() if hasattr(m, "instance_type") and hasattr(m, "tracked_fields")]


def history_digest(data: dict) -> str:
    """sha256 of a row already read (`{"row": …, <m2m field>: […]}`), as `row_digest` computes it;
    used by the batched chaining of audit/bulk.py."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def row_digests(model, pks) -> dict:
    """{pk: sha256 of the stored row (and of its m2m history rows)}, as the database returns them."""
    pk_name = model._meta.pk.attname
    rows = {row[pk_name]: {"row": row} for row in model._default_manager.filter(pk__in=pks).values()}
    for field in getattr(model, "_history_m2m_fields", ()):
        m2m_model = getattr(model, field.name).model
        for pk in rows:
            rows[pk][field.name] = []
        for item in m2m_model._default_manager.filter(history_id__in=list(rows)).order_by("pk").values():
            rows[item["history_id"]][field.name].append(item)
    return {pk: history_digest(data) for pk, data in rows.items()}


def memory_digest(row) -> str | None:
    """The digest `row_digests` would read back, computed from the row just written (each value as the
    database returns it), with its m2m history rows written with it (audit.signals._keep_m2m_rows);
    None when those are not all in memory with their ids (then read back)."""
    model = type(row)
    data = {"row": _stored_values(row)}
    written = row.__dict__.get("_m2m_written", {})
    for field in getattr(model, "_history_m2m_fields", ()):
        items = written.get(field.name)
        if items is None or any(item.pk is None for item in items):
            return None
        data[field.name] = [_stored_values(item) for item in sorted(items, key=lambda item: item.pk)]
    return history_digest(data)


def _stored_values(obj) -> dict:
    return {f.attname: _as_stored(f, f.value_from_object(obj)) for f in type(obj)._meta.concrete_fields}


def _as_stored(field, value):
    """A value as the database gives it back: the Python type of its column, decimals at the column's
    scale, moments in UTC, JSON through its encoder."""
    if value is None:
        return None
    if field.is_relation:
        field = field.target_field
    if isinstance(field, models.JSONField):
        return json.loads(json.dumps(value, cls=field.encoder), cls=field.decoder)
    if hasattr(field, "from_db_value"):  # a field converting what it reads (viewflow's flow references)
        return field.from_db_value(field.get_prep_value(value), None, connection)
    value = field.to_python(value)
    if isinstance(field, models.DecimalField):
        return value.quantize(Decimal(1).scaleb(-field.decimal_places))
    if isinstance(field, models.DateTimeField):
        return value.astimezone(UTC) if timezone.is_aware(value) else value
    return value


def row_digest(model, pk) -> str | None:
    return row_digests(model, [pk]).get(_as_pk(model, pk))


def _as_pk(model, value):
    return model._meta.pk.to_python(value)


def case_id_of(history_row) -> int | None:
    """The case whose chain a history row joins; None for rows outside any case (global chain)."""

    label = history_row.instance_type._meta.label_lower
    if label == "cases.case":
        return history_row.id
    if label in ("guardian.groupobjectpermission", "guardian.userobjectpermission"):
        ct = ContentType.objects.get_for_id(history_row.content_type_id)  # cached: no query per row
        return int(history_row.object_pk) if (ct.app_label, ct.model) == ("cases", "case") else None
    if getattr(history_row, "case_id", None):
        return history_row.case_id
    if getattr(history_row, "proposal_id", None):
        source = getattr(history_row, "_audit_source", None)  # the saved instance (audit/signals.py)
        if (
            hasattr(type(source), "proposal")
            and type(source).proposal.is_cached(source)
            and source.proposal_id == history_row.proposal_id
        ):
            return source.proposal.case_id
        return Proposal.objects.filter(pk=history_row.proposal_id).values_list("case_id", flat=True).first()
    household_id = {"cases.household": "id", "cases.householdmember": "household_id"}.get(label)
    if household_id:
        # A household may have had several cases: its rows join the open one, else the latest.
        return (
            Case.objects.filter(household_id=getattr(history_row, household_id))
            .order_by("closed_at", "-created_at")
            .values_list("pk", flat=True)
            .first()
        )
    return None


def chain_history_row(history_row) -> AuditEntry:
    return chain_history_rows([history_row])[0]


def _link_of(row) -> tuple:
    """(case id, action, actor id, moment) of a history row or a read-log row."""

    if isinstance(row, AccessLog):
        return row.case_id, "read", row.user_id, row.at
    if isinstance(row, Redaction):
        return row.case_id, REDACTION_ACTION, row.actor_id, row.at
    return case_id_of(row), row.history_type, row.history_user_id, row.history_date


REDACTION_ACTION = "anon"


def chain_history_rows(rows, *, written_now: bool = False) -> list[AuditEntry]:
    """Chain many history (or read-log) rows at once: one lock per chain, one insert, one head update.

    For the rows of one transaction (workflow services, a page's reads). Bulk loads of millions of
    rows use audit.bulk.chain_history_ids (COPY, chunks); tests/bench/test_bulk_chain.py checks both
    write the same entries.

    The entries are exactly those chain_history_row would write one by one, in the rows' order.
    Rows rolled back meanwhile (a savepoint the caller recovered from) no longer exist: skipped.

    `written_now`: the rows are the instances this transaction has just written and still holds
    (chained_at_end): their digests are computed from them, not read back (issue 17).
    """
    if not rows:
        return []
    digests: dict = {}
    if written_now:
        for row in rows:
            digest = memory_digest(row)
            if digest is not None:
                digests[(type(row), row.pk)] = digest
    for model in {type(row) for row in rows}:
        pks = [row.pk for row in rows if type(row) is model and (model, row.pk) not in digests]
        if not pks:
            continue
        digests.update({(model, pk): digest for pk, digest in row_digests(model, pks).items()})
    rows = [row for row in rows if (type(row), row.pk) in digests]
    links = [_link_of(row) for row in rows]
    keys = sorted({chain_key(case_id) for case_id, *_rest in links})  # one lock order: no deadlock
    # No savepoint of its own: a failure here fails the caller's transaction, which holds the rows.
    with transaction.atomic(savepoint=False):
        heads = {head.chain: head for head in AuditChainHead.objects.select_for_update().filter(chain__in=keys)}
        if len(heads) < len(keys):  # a chain's first entry: create its head, then lock it like the others
            AuditChainHead.objects.bulk_create([AuditChainHead(chain=key) for key in keys], ignore_conflicts=True)
            heads = {head.chain: head for head in AuditChainHead.objects.select_for_update().filter(chain__in=keys)}
        entries = []
        for row, (case_id, action, actor_id, occurred_at) in zip(rows, links, strict=True):
            head = heads[chain_key(case_id)]
            entry = AuditEntry(
                chain=head.chain,
                seq=head.seq + 1,
                case_id=case_id,
                source=type(row)._meta.label_lower,
                source_id=str(row.pk),
                action=action,
                actor_id=actor_id,
                occurred_at=occurred_at,
                row_digest=digests[(type(row), row.pk)],
                prev_hash=head.hash,
            )
            entry.hash = entry.compute_hash()
            head.seq, head.hash = entry.seq, entry.hash
            entries.append(entry)
        if written_now and connection.vendor == "postgresql":
            _insert_moving_heads(entries, list(heads.values()))
        else:
            AuditEntry.objects.bulk_create(entries)
            AuditChainHead.objects.bulk_update(list(heads.values()), ["seq", "hash"])
    return entries


def _insert_moving_heads(entries, heads) -> None:
    """PostgreSQL: the entries inserted and their chains' heads moved in one statement (a data-modifying
    CTE), for a transaction's own rows (chained_at_end: the entries are not read back, no pk needed)."""
    quote = connection.ops.quote_name
    fields = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in fields)
    head = quote(AuditChainHead._meta.db_table)
    sql = (
        f"WITH entries AS (INSERT INTO {quote(AuditEntry._meta.db_table)} ({columns}) SELECT * FROM unnest({arrays})) "
        f"UPDATE {head} AS h SET seq = v.seq, hash = v.hash "
        "FROM unnest(%s::varchar[], %s::bigint[], %s::varchar[]) AS v(chain, seq, hash) WHERE h.chain = v.chain"
    )
    params = [[f.get_db_prep_save(getattr(e, f.attname), connection) for e in entries] for f in fields]
    params += [[h.chain for h in heads], [h.seq for h in heads], [h.hash for h in heads]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


_batch = threading.local()


@contextmanager
def chained_at_end():
    """Inside a transaction: collect the block's history rows and chain them in one batch as the
    block ends, still inside the transaction (so they commit, or roll back, together).

    Outside such a block every history row is chained as it is written (audit.signals)."""
    if getattr(_batch, "rows", None) is not None:
        yield  # nested: the outermost block chains
        return
    _batch.rows = []
    try:
        yield
        collected, _batch.rows = _batch.rows, None
        # A row whose savepoint rolled back lost its mark with it (cases/txmarks.py): not chained.
        alive = txmarks.alive_marks()
        rows = [row for row, token in collected if token is None or id(token) in alive]
        chain_history_rows(rows, written_now=True)
    finally:
        _batch.rows = None


def chain_or_collect(row) -> None:
    """Chain a history or read-log row now, or at the end of the enclosing chained_at_end block."""
    rows = getattr(_batch, "rows", None)
    if rows is None:
        chain_history_rows([row])
    else:
        rows.append((row, txmarks.mark()))


# --- verification ----------------------------------------------------------------------------------


@dataclass
class Break:
    chain: str
    seq: int | None
    entry_id: int | None
    problem: str

    def __str__(self):
        where = f"{self.chain} entrée n°{self.seq} (id {self.entry_id})" if self.seq else self.chain
        return f"{where} : {self.problem}"


VERIFY_BATCH = 500


def verify_chain(key: str) -> Break | None:
    """The first broken link of one chain, or None when the whole chain checks out."""
    expected_seq, prev_hash, last = 1, "", None
    entries = AuditEntry.objects.filter(chain=key).order_by("seq").iterator(chunk_size=VERIFY_BATCH)
    while batch := list(islice(entries, VERIFY_BATCH)):
        digests = _source_digests(batch)  # a few queries per batch, not one per entry
        # Rows changed since their entry: accepted only as recorded redactions (no query when none changed).
        changed = [e for e in batch if digests.get((e.source, e.source_id)) not in (None, e.row_digest)]
        redactions = _redactions_of(changed, key) if changed else {}
        for entry in batch:
            problem = None
            if entry.seq != expected_seq:
                problem = f"entrée manquante (attendu n°{expected_seq})"
            elif entry.prev_hash != prev_hash:
                problem = "lien rompu : l'empreinte précédente ne correspond pas"
            elif entry.compute_hash() != entry.hash:
                problem = "entrée modifiée : son empreinte ne correspond plus à son contenu"
            else:
                digest = digests.get((entry.source, entry.source_id))
                if digest is None:
                    problem = f"ligne source supprimée ({entry.source} #{entry.source_id})"
                elif digest != entry.row_digest and not _redacted(entry, digest, redactions):
                    problem = f"ligne source modifiée ({entry.source} #{entry.source_id})"
            if problem:
                return Break(key, entry.seq, entry.pk, problem)
            expected_seq, prev_hash, last = expected_seq + 1, entry.hash, entry
    head = AuditChainHead.objects.filter(chain=key).first()
    if head and (last is None or (head.seq, head.hash) != (last.seq, last.hash)):
        return Break(key, head.seq, None, "fin de chaîne supprimée (la tête ne correspond pas à la dernière entrée)")
    return None


def _redactions_of(entries, key: str) -> dict:
    """{(source, source_id): [(redaction, seq of its entry in this chain or None), …]} for the rows
    some entries point at, oldest redaction first."""
    found: dict = {}
    by_source: dict[str, set] = {}
    for entry in entries:
        if entry.action != REDACTION_ACTION:
            by_source.setdefault(entry.source, set()).add(entry.source_id)
    redactions = []
    for source, source_ids in by_source.items():
        redactions += Redaction.objects.filter(source=source, source_id__in=source_ids).order_by("pk")
    label = Redaction._meta.label_lower
    seqs = dict(
        AuditEntry.objects.filter(
            chain=key, source=label, source_id__in=[str(r.pk) for r in redactions], action=REDACTION_ACTION
        ).values_list("source_id", "seq")
    )
    for redaction in redactions:
        found.setdefault((redaction.source, redaction.source_id), []).append((redaction, seqs.get(str(redaction.pk))))
    return found


def _redacted(entry, digest: str, redactions: dict) -> bool:
    """True when the row's change since its entry is exactly a sequence of recorded redactions, each
    chained after the entry in the same chain: from the digest the entry fixed to the row's digest now."""
    current = entry.row_digest
    for redaction, seq in redactions.get((entry.source, entry.source_id), []):
        if seq is None or seq <= entry.seq or redaction.digest_before != current:
            return False
        current = redaction.digest_after
    return current == digest and current != entry.row_digest


def _source_digests(entries) -> dict:
    """{(source, source_id): digest of the stored row} for the rows some entries point at, read in
    one batch per model (row_digests); a row that no longer exists is absent."""
    ids: dict[str, set] = {}
    for entry in entries:
        ids.setdefault(entry.source, set()).add(entry.source_id)
    digests = {}
    for source, source_ids in ids.items():
        model = apps.get_model(source)
        by_pk = row_digests(model, [_as_pk(model, source_id) for source_id in source_ids])
        digests.update({(source, source_id): by_pk.get(_as_pk(model, source_id)) for source_id in source_ids})
    return digests


def all_chain_keys() -> list[str]:
    keys = set(AuditEntry.objects.values_list("chain", flat=True).distinct())
    keys |= set(AuditChainHead.objects.values_list("chain", flat=True))
    return sorted(keys)


def unchained_rows():
    """(model label, count) of history and read-log rows that no entry points at (raw inserts)."""

    for model in [*history_models(), AccessLog, Redaction]:
        label = model._meta.label_lower
        chained = AuditEntry.objects.filter(source=label).values_list("source_id", flat=True)
        ids = {str(pk) for pk in model._default_manager.values_list("pk", flat=True)} - set(chained)
        if ids:
            yield label, sorted(ids, key=lambda v: (len(v), v))
