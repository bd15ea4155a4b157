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
"""

import logging
from collections import Counter
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from cases import choices, txmarks
from cases.models import Case, CommitteeReview, Proposal

from .models import Allocation, CaseContribution, StatCount

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


COLUMNS = "metric, month, epci_siren, departement, commune, landlord_id, reservataire_id, dim, value, n"
CONFLICT = (
    "ON CONFLICT (metric, month, epci_siren, departement, commune, landlord_id, reservataire_id, dim, value) "
    "DO UPDATE SET n = steering_statcount.n + excluded.n"
)
ROWS_PER_STATEMENT = 1000


def _apply(delta: Counter) -> None:
    """Add the delta to the counters: multi-row upserts (each key once per statement, in key order)."""
    rows = [(*key, n) for key, n in sorted(delta.items()) if n]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO steering_statcount ({COLUMNS}) VALUES {values} {CONFLICT}",
                [v for row in chunk for v in row],
            )


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
    return done


def rebuild(progress=None) -> int:
    """Recompute every case from scratch (the aggregates are derived: they may be dropped at will)."""
    with transaction.atomic():
        StatCount.objects.all().delete()
        CaseContribution.objects.all().delete()
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        _refresh_batch(ids[start : start + BATCH])
        if progress:
            progress(min(BATCH, len(ids) - start))
    return len(ids)
