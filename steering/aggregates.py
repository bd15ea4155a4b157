"""The steering aggregates, kept incrementally so the dashboard never reads the cases themselves.

Each case contributes a multiset of keys to StatCount (its stock position, its flow events, its step
delays, its offers and allocations). The keys last applied are kept in CaseContribution; a refresh
recomputes a case's keys and applies only the difference (+1 / -1 on each counter, in key order so two
refreshes never deadlock). A case is refreshed at once when its lease is signed or it is closed
(steering/signals.py), and otherwise marked dirty by any write on its records and refreshed by the
Celery beat task `steering.refresh` (every 5 minutes). `manage.py steering_rebuild` recomputes all.

Metrics (dim: value):
- stock (no month; open cases): step, criterion, dalo (1/0), protected (1/0);
- dalo_open (no month; open DALO cases): deadline: the préfet's deadline, ISO date (past ones are
  counted against today at read time);
- flow (month of the event): event: flagged, labelled, proposed, rehoused; closed: closure reason;
- delay (month the step ended; no commune, landlord or réservataire, to keep the table small): the step
  name: days, binned (see `bin_days`);
- dalo_rehoused (month closed): compliance: within / late (against the préfet's deadline);
- offer (month proposed; the dwelling's commune, landlord and contingent): typology: "qpv|outcome|motive";
- alloc (month of the lease; from Allocation): "": "dalo|qpv|quartile|urban renewal".

Rollups (RollupCount): the same counters summed over what a view does not need (`GRAINS`), written from
the same delta in the same transaction (`_apply`), so a territory or a landlord reads a few hundred rows
whatever the number of cases (steering/figures.py picks the grain).
"""

import logging
from collections import Counter
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from cases import choices, txmarks
from cases.models import Case, CommitteeReview, Proposal

from .models import STATCOUNT_KEY, Allocation, CaseContribution, RollupCount, StatCount

log = logging.getLogger("ppgdid.steering")

REHOUSED = {choices.ClosureReason.REHOUSED_SOCIAL, choices.ClosureReason.REHOUSED_PRIVATE}
STEPS = ("diagnostic", "committee", "proposal", "caleol", "reply", "lease", "end_to_end")
BATCH = 500


def bin_days(days: int) -> int:
    """Day precision up to two months, then weeks up to a year, then 30-day bins (lower bounds)."""
    days = max(0, days)
    if days <= 60:
        return days
    if days < 365:
        return days - days % 7
    return days - days % 30


def _day(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _month(value) -> str:
    day = _day(value)
    return f"{day:%Y-%m}" if day else ""


def _place(commune):
    if commune is None:
        return "", "", ""
    return commune.epci_siren or "", commune.departement or "", commune.insee_code


def case_keys(case, allocations) -> Counter:
    """The keys one case contributes. `case` comes from `cases_for_keys` (its related rows prefetched)."""
    keys: Counter = Counter()
    epci, dept, insee = _place(case.household.commune)
    landlord = case.designated_landlord_id or 0
    reservataire = case.target_reservataire_id or 0

    def add(metric, month, dim, value, *, commune=insee, landlord=landlord, reservataire=reservataire, where=None):
        e, d = (epci, dept) if where is None else where[:2]
        keys[(metric, month, e, d, commune, landlord, reservataire, dim, str(value))] += 1

    def delay(step, start, end):
        start, end = _day(start), _day(end)
        if start and end:
            keys[("delay", _month(end), epci, dept, "", 0, 0, step, str(bin_days((end - start).days)))] += 1

    created = case.created_at
    if case.closed_at is None:
        add("stock", "", "step", case.status)
        for criterion in case.criteria.all():
            add("stock", "", "criterion", criterion.code)
        add("stock", "", "dalo", int(case.is_dalo))
        add("stock", "", "protected", int(case.is_protected))
        if case.is_dalo and case.dalo_offer_deadline:
            add("dalo_open", "", "deadline", case.dalo_offer_deadline.isoformat())
    add("flow", _month(created), "event", "flagged")
    reviews = [r for r in case.committee_reviews.all() if r.kind == CommitteeReview.Kind.PRIORITY]
    labelled = next((r for r in reviews if r.outcome == choices.CommitteeOutcome.LABELLED), None)
    proposals = sorted(case.proposals.all(), key=lambda p: p.created_at)
    if labelled:
        add("flow", _month(labelled.decided_at), "event", "labelled")
    if proposals:
        add("flow", _month(proposals[0].created_at), "event", "proposed")
    if case.closed_at:
        add("flow", _month(case.closed_at), "closed", case.closure_reason or "other")
        if case.closure_reason in REHOUSED:
            add("flow", _month(case.closed_at), "event", "rehoused")
            delay("end_to_end", created, case.closed_at)
            if case.is_dalo and case.dalo_offer_deadline:
                met = _day(case.closed_at) <= case.dalo_offer_deadline
                add("dalo_rehoused", _month(case.closed_at), "compliance", "within" if met else "late")
    diagnostic = getattr(case, "diagnostic", None)
    diagnosed = diagnostic.completed_at if diagnostic else None
    delay("diagnostic", created, diagnosed)
    first_review = reviews[0] if reviews else None
    if first_review:
        delay("committee", diagnosed, first_review.decided_at)
    if labelled and proposals:
        delay("proposal", labelled.decided_at, proposals[0].created_at)
    for proposal in proposals:
        dwelling = proposal.dwelling
        p_epci, p_dept, p_insee = _place(dwelling.commune)
        decision = getattr(proposal, "caleol_decision", None)
        reply = getattr(proposal, "reply", None)
        if decision:
            delay("caleol", proposal.created_at, decision.decided_on)
        if reply and proposal.notified_on:
            delay("reply", proposal.notified_on, reply.replied_on)
        if reply and proposal.lease_signed_on:
            delay("lease", reply.replied_on, proposal.lease_signed_on)
        if reply:
            outcome, motive = reply.answer, reply.refusal_motive or ""
        elif decision and not decision.is_allocation:
            outcome, motive = "not_allocated", ""
        else:
            outcome, motive = "pending", ""
        add(
            "offer",
            _month(proposal.created_at),
            dwelling.typology,
            f"{int(dwelling.in_qpv)}|{outcome}|{motive}",
            commune=p_insee,
            landlord=proposal.landlord_id,
            reservataire=dwelling.reservataire_id or 0,
            where=(p_epci, p_dept),
        )
    for allocation in allocations:
        a = allocation
        keys[
            (
                "alloc",
                _month(a.lease_signed_on),
                a.epci_siren,
                a.commune.departement,
                a.commune_id,
                a.landlord_id,
                a.reservataire_id or 0,
                "",
                f"{int(a.is_dalo)}|{int(a.in_qpv)}|{a.quartile or 0}|{int(a.urban_renewal)}",
            )
        ] += 1
    return keys


def cases_for_keys(case_ids):
    return (
        Case.objects.filter(pk__in=case_ids)
        .select_related("household__commune", "diagnostic")
        .prefetch_related(
            "criteria",
            "committee_reviews",
            Prefetch(
                "proposals",
                queryset=Proposal.objects.select_related("dwelling__commune", "caleol_decision", "reply"),
            ),
        )
    )


def _allocations_by_case(case_ids) -> dict:
    found: dict = {}
    for allocation in Allocation.objects.filter(case_id__in=case_ids).select_related("commune"):
        found.setdefault(allocation.case_id, []).append(allocation)
    return found


def _encode(keys: Counter) -> list:
    return sorted([list(key), n] for key, n in keys.items())


def _decode(stored) -> Counter:
    return Counter({tuple(key): n for key, n in stored or []})


# --- rollups ------------------------------------------------------------------------------------------

# The key fields a grain may keep or blank ("" or 0); metric, month, EPCI, département and value are kept.
ROLLABLE = {"commune": "", "landlord_id": 0, "reservataire_id": 0, "dim": ""}
# (kept fields, metrics): the grains the views read, coarsest first (figures.py takes the first that keeps
# every field it groups or filters on). Delays are keyed by territory already: no rollup.
GRAINS = (
    # a territory made of whole EPCIs: stock, flows, DALO deadlines, offers by typology and QPV
    (("dim",), ("stock", "flow", "dalo_rehoused", "dalo_open", "offer")),
    # offers by landlord, by commune; allocations by contingent
    (("landlord_id",), ("offer",)),
    (("commune",), ("offer",)),
    (("reservataire_id",), ("alloc",)),
    # a territory by commune (the steps are shown per commune; part of an EPCI; the commune filter)
    (("commune", "dim"), ("stock", "flow", "dalo_rehoused", "dalo_open", "offer")),
    # a landlord's stock, flows, DALO deadlines and offers by typology
    (("landlord_id", "dim"), ("stock", "flow", "dalo_rehoused", "dalo_open", "offer")),
    # a landlord's offers by commune; the quotas (per contingent and landlord)
    (("commune", "landlord_id"), ("offer",)),
    (("landlord_id", "reservataire_id"), ("alloc",)),
    # a landlord's steps per commune
    (("commune", "landlord_id", "dim"), ("stock",)),
)


def grain_name(kept) -> str:
    return "+".join(kept)


_POSITIONS = {field: STATCOUNT_KEY.index(field) for field in ROLLABLE}
_BY_METRIC: dict = {}
for _kept, _metrics in GRAINS:
    _blanks = tuple((_POSITIONS[f], blank) for f, blank in ROLLABLE.items() if f not in _kept)
    for _metric in _metrics:
        _BY_METRIC.setdefault(_metric, []).append((grain_name(_kept), _blanks))


def grain_for(metric: str, needed) -> str | None:
    """The coarsest grain of `metric` keeping every field in `needed` (None: read StatCount)."""
    for kept, metrics in GRAINS:
        if metric in metrics and set(needed) <= set(kept):
            return grain_name(kept)
    return None


def rollup(delta: Counter) -> Counter:
    """StatCount keys (or deltas) summed per grain: RollupCount keys, ("grain", *StatCount key)."""
    out: Counter = Counter()
    for key, n in delta.items():
        for name, blanks in _BY_METRIC.get(key[0], ()):
            coarse = list(key)
            for position, blank in blanks:
                coarse[position] = blank
            out[(name, *coarse)] += n
    return out


def rebuild_rollups() -> int:
    """Sum the rollups again from the counters (after a change of GRAINS): no case is read."""
    with transaction.atomic(), connection.cursor() as cursor:
        RollupCount.objects.all().delete()
        for statement in rollup_sql():
            cursor.execute(statement)
    return RollupCount.objects.count()


def rollup_sql() -> list[str]:
    """The rollups of the whole StatCount table, one INSERT … SELECT per grain (the SQL rebuild)."""
    statements = []
    for kept, metrics in GRAINS:
        picked = ", ".join(
            f if f not in ROLLABLE or f in kept else ("''" if ROLLABLE[f] == "" else "0") for f in STATCOUNT_KEY
        )
        listed = ", ".join(f"'{m}'" for m in metrics)
        statements.append(
            f"INSERT INTO steering_rollupcount (grain, {COLUMNS}) "
            f"SELECT '{grain_name(kept)}', {picked}, sum(n) FROM steering_statcount "
            f"WHERE metric IN ({listed}) GROUP BY {', '.join(str(i) for i in range(2, len(STATCOUNT_KEY) + 2))}"
        )
    return statements


# --- writing the counters --------------------------------------------------------------------------------

COLUMNS = "metric, month, epci_siren, departement, commune, landlord_id, reservataire_id, dim, value, n"
KEY = "metric, month, epci_siren, departement, commune, landlord_id, reservataire_id, dim, value"
ROWS_PER_STATEMENT = 1000


def _upsert(cursor, table: str, key: str, delta: Counter) -> None:
    """Multi-row upserts adding n (each key once per statement, in key order so two refreshes never
    deadlock: StatCount first, then RollupCount, each in key order)."""
    rows = [(*k, n) for k, n in sorted(delta.items()) if n]
    width = len(key.split(",")) + 1
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        cursor.execute(
            f"INSERT INTO {table} ({key}, n) VALUES {', '.join([placeholders] * len(chunk))} "
            f"ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n",
            [v for row in chunk for v in row],
        )


def _apply(delta: Counter) -> None:
    """Add the delta to the counters and to their rollups (the one place both are written)."""
    with connection.cursor() as cursor:
        _upsert(cursor, "steering_statcount", KEY, delta)
        _upsert(cursor, "steering_rollupcount", f"grain, {KEY}", rollup(delta))


def clear() -> None:
    """Empty the aggregates (before a full rebuild)."""
    with transaction.atomic():
        StatCount.objects.all().delete()
        RollupCount.objects.all().delete()
        CaseContribution.objects.all().delete()


def refresh_cases(case_ids) -> int:
    """Recompute and apply the contribution of these cases (any number; batched). Returns how many."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), BATCH):
        _refresh_batch(ids[start : start + BATCH])
    return len(ids)


def _refresh_batch(ids) -> None:
    with transaction.atomic():
        CaseContribution.objects.bulk_create(
            [CaseContribution(case_id=pk) for pk in ids], ignore_conflicts=True, batch_size=BATCH
        )
        stored = {
            c.case_id: c for c in CaseContribution.objects.select_for_update().filter(case_id__in=ids).order_by("pk")
        }
        allocations = _allocations_by_case(ids)
        fresh = {case.pk: case_keys(case, allocations.get(case.pk, ())) for case in cases_for_keys(ids)}
        delta: Counter = Counter()
        now = timezone.now()
        for pk in ids:
            old = _decode(stored[pk].keys)
            new = fresh.get(pk, Counter())  # a deleted case contributes nothing
            delta.update(new)
            delta.subtract(old)
            stored[pk].keys, stored[pk].dirty, stored[pk].refreshed_at = _encode(new), False, now
        _apply(delta)
        CaseContribution.objects.bulk_update(list(stored.values()), ["keys", "dirty", "refreshed_at"])
        txmarks.unmark({("steering.dirty", pk) for pk in stored})  # a later write marks them dirty again


def mark_dirty(case_id) -> None:
    # Once per case and transaction: a transition saves the case and its records several times, and
    # the mark rolls back with them (cases/txmarks.py).
    key = ("steering.dirty", case_id)
    if txmarks.marked(key):
        return
    txmarks.mark(key)
    CaseContribution.objects.bulk_create(
        [CaseContribution(case_id=case_id, dirty=True)],
        update_conflicts=True,
        unique_fields=["case_id"],
        update_fields=["dirty"],
    )


def refresh_dirty(limit: int | None = None) -> int:
    """What the beat task runs: every case marked dirty since the last run."""
    done = 0
    while True:
        ids = list(CaseContribution.objects.filter(dirty=True).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        refresh_cases(ids)
        done += len(ids)
        if limit and done >= limit:
            break
    StatCount.objects.filter(n=0).delete()
    RollupCount.objects.filter(n=0).delete()
    return done


def rebuild(progress=None) -> int:
    """Recompute every case from scratch (the aggregates are derived: they may be dropped at will)."""
    clear()
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        _refresh_batch(ids[start : start + BATCH])
        if progress:
            progress(min(BATCH, len(ids) - start))
    return len(ids)
