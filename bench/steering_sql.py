"""The steering counters of a volume fixture in one set-based statement: for 1,000,000 cases, where the
ordinary per-case rebuild (steering.aggregates.rebuild) takes hours on the benchmark machine.

BENCHMARK ONLY. The rules stay in steering/aggregates.py (`case_keys`); this is a SQL transcription of
them for the fixture's shapes (one priority review at most per case, and so on), checked equal to the
ordinary rebuild by tests/bench/test_steering_volume.py. It writes StatCount, then its rollups
(RollupCount, `steering.aggregates.rollup_sql`: the grains of steering.aggregates.GRAINS), in the same
transaction. The per-case
contributions (CaseContribution) are computed the ordinary way for the cases a measure refreshes
(`contributions_for`), so an incremental refresh of those cases finds its previous keys.
"""

from django.conf import settings
from django.db import connection, transaction

from steering import aggregates
from steering.models import CaseContribution


def _bin(days: str) -> str:
    """steering.aggregates.bin_days in SQL, as text."""
    d = f"GREATEST(0, {days})"
    return f"(CASE WHEN {d} <= 60 THEN {d} WHEN {d} < 365 THEN {d} - {d} %% 7 ELSE {d} - {d} %% 30 END)::text"


def _day(ts: str) -> str:
    return f"({ts} AT TIME ZONE %(tz)s)::date"


def _month(day: str) -> str:
    return f"to_char({day}, 'YYYY-MM')"


PLACE = "c.epci, c.dept, c.insee, c.landlord, c.res"
DELAY_PLACE = "c.epci, c.dept, '', 0, 0"
REHOUSED = "c.closure_reason IN ('rehoused_social', 'rehoused_private')"

SQL = f"""
WITH c AS (
    SELECT c.id, c.status, c.is_dalo, c.is_protected, c.dalo_offer_deadline AS deadline, c.closed_at,
        c.closure_reason, coalesce(m.epci_siren, '') AS epci, coalesce(m.departement, '') AS dept,
        coalesce(m.insee_code, '') AS insee, coalesce(c.designated_landlord_id, 0) AS landlord,
        coalesce(c.target_reservataire_id, 0) AS res,
        {_day("c.created_at")} AS created_day, {_day("c.closed_at")} AS closed_day,
        {_day("d.completed_at")} AS diag_day
    FROM cases_case c JOIN cases_household h ON h.id = c.household_id
    LEFT JOIN cases_commune m ON m.insee_code = h.commune_id
    LEFT JOIN cases_diagnostic d ON d.case_id = c.id
),
rv AS (
    SELECT case_id, {_day("min(decided_at)")} AS first_day,
        {_day("min(decided_at) FILTER (WHERE outcome = 'labelled')")} AS labelled_day
    FROM cases_committeereview WHERE kind = 'priority' GROUP BY case_id
),
pf AS (SELECT case_id, {_day("min(created_at)")} AS first_day FROM cases_proposal GROUP BY case_id),
p AS (
    SELECT p.case_id, {_day("p.created_at")} AS created_day, p.notified_on, p.lease_signed_on, p.landlord_id,
        coalesce(m.epci_siren, '') AS epci, coalesce(m.departement, '') AS dept, m.insee_code AS insee,
        coalesce(w.reservataire_id, 0) AS res, w.typology, w.in_qpv, k.decided_on, k.decision, r.answer,
        r.refusal_motive, r.replied_on
    FROM cases_proposal p JOIN cases_dwelling w ON w.id = p.dwelling_id
    JOIN cases_commune m ON m.insee_code = w.commune_id
    LEFT JOIN cases_caleoldecision k ON k.proposal_id = p.id
    LEFT JOIN cases_householdreply r ON r.proposal_id = p.id
),
keys (metric, month, epci_siren, departement, commune, landlord_id, reservataire_id, dim, value) AS (
    SELECT 'stock', '', {PLACE}, 'step', c.status FROM c WHERE c.closed_at IS NULL
    UNION ALL SELECT 'stock', '', {PLACE}, 'criterion', cc.code
        FROM c JOIN cases_casecriterion cc ON cc.case_id = c.id WHERE c.closed_at IS NULL
    UNION ALL SELECT 'stock', '', {PLACE}, 'dalo', c.is_dalo::int::text FROM c WHERE c.closed_at IS NULL
    UNION ALL SELECT 'stock', '', {PLACE}, 'protected', c.is_protected::int::text FROM c WHERE c.closed_at IS NULL
    UNION ALL SELECT 'dalo_open', '', {PLACE}, 'deadline', to_char(c.deadline, 'YYYY-MM-DD')
        FROM c WHERE c.closed_at IS NULL AND c.is_dalo AND c.deadline IS NOT NULL
    UNION ALL SELECT 'flow', {_month("c.created_day")}, {PLACE}, 'event', 'flagged' FROM c
    UNION ALL SELECT 'flow', {_month("rv.labelled_day")}, {PLACE}, 'event', 'labelled'
        FROM c JOIN rv ON rv.case_id = c.id WHERE rv.labelled_day IS NOT NULL
    UNION ALL SELECT 'flow', {_month("pf.first_day")}, {PLACE}, 'event', 'proposed'
        FROM c JOIN pf ON pf.case_id = c.id
    UNION ALL SELECT 'flow', {_month("c.closed_day")}, {PLACE}, 'closed',
            coalesce(nullif(c.closure_reason, ''), 'other')
        FROM c WHERE c.closed_at IS NOT NULL
    UNION ALL SELECT 'flow', {_month("c.closed_day")}, {PLACE}, 'event', 'rehoused'
        FROM c WHERE c.closed_at IS NOT NULL AND {REHOUSED}
    UNION ALL SELECT 'delay', {_month("c.closed_day")}, {DELAY_PLACE}, 'end_to_end',
            {_bin("(c.closed_day - c.created_day)")}
        FROM c WHERE c.closed_at IS NOT NULL AND {REHOUSED}
    UNION ALL SELECT 'dalo_rehoused', {_month("c.closed_day")}, {PLACE}, 'compliance',
            CASE WHEN c.closed_day <= c.deadline THEN 'within' ELSE 'late' END
        FROM c WHERE c.closed_at IS NOT NULL AND {REHOUSED} AND c.is_dalo AND c.deadline IS NOT NULL
    UNION ALL SELECT 'delay', {_month("c.diag_day")}, {DELAY_PLACE}, 'diagnostic',
            {_bin("(c.diag_day - c.created_day)")}
        FROM c WHERE c.diag_day IS NOT NULL
    UNION ALL SELECT 'delay', {_month("rv.first_day")}, {DELAY_PLACE}, 'committee',
            {_bin("(rv.first_day - c.diag_day)")}
        FROM c JOIN rv ON rv.case_id = c.id WHERE c.diag_day IS NOT NULL
    UNION ALL SELECT 'delay', {_month("pf.first_day")}, {DELAY_PLACE}, 'proposal',
            {_bin("(pf.first_day - rv.labelled_day)")}
        FROM c JOIN rv ON rv.case_id = c.id JOIN pf ON pf.case_id = c.id WHERE rv.labelled_day IS NOT NULL
    UNION ALL SELECT 'delay', {_month("p.decided_on")}, {DELAY_PLACE}, 'caleol',
            {_bin("(p.decided_on - p.created_day)")}
        FROM c JOIN p ON p.case_id = c.id WHERE p.decided_on IS NOT NULL
    UNION ALL SELECT 'delay', {_month("p.replied_on")}, {DELAY_PLACE}, 'reply',
            {_bin("(p.replied_on - p.notified_on)")}
        FROM c JOIN p ON p.case_id = c.id WHERE p.replied_on IS NOT NULL AND p.notified_on IS NOT NULL
    UNION ALL SELECT 'delay', {_month("p.lease_signed_on")}, {DELAY_PLACE}, 'lease',
            {_bin("(p.lease_signed_on - p.replied_on)")}
        FROM c JOIN p ON p.case_id = c.id WHERE p.replied_on IS NOT NULL AND p.lease_signed_on IS NOT NULL
    UNION ALL SELECT 'offer', {_month("p.created_day")}, p.epci, p.dept, p.insee, p.landlord_id, p.res,
            p.typology,
            p.in_qpv::int::text || '|' || CASE
                WHEN p.answer IS NOT NULL THEN p.answer || '|' || p.refusal_motive
                WHEN p.decision IS NOT NULL AND p.decision NOT IN ('allocated', 'allocated_ranked',
                    'suspensive_condition') THEN 'not_allocated|'
                ELSE 'pending|' END
        FROM p
    UNION ALL SELECT 'alloc', {_month("a.lease_signed_on")}, a.epci_siren, m.departement, a.commune_id,
            a.landlord_id, coalesce(a.reservataire_id, 0), '',
            a.is_dalo::int::text || '|' || a.in_qpv::int::text || '|' || coalesce(a.quartile, 0)::text || '|'
                || a.urban_renewal::int::text
        FROM steering_allocation a JOIN cases_commune m ON m.insee_code = a.commune_id
)
INSERT INTO steering_statcount ({aggregates.COLUMNS})
SELECT metric, month, epci_siren, departement, commune, landlord_id, reservataire_id, dim, value, count(*)
FROM keys GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""


def build_statcount() -> int:
    """Empty the aggregates and count every case's keys in one statement, then sum them per grain.
    Returns the counter rows."""
    with transaction.atomic():
        aggregates.clear()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(SQL, {"tz": settings.TIME_ZONE})
            rows = cursor.rowcount
            for statement in aggregates.rollup_sql():
                cursor.execute(statement)
            return rows


def contributions_for(case_ids) -> None:
    """Store these cases' keys as last applied (the counters already hold them), as a refresh would."""
    from django.utils import timezone

    ids = sorted(set(case_ids))
    allocations = aggregates._allocations_by_case(ids)
    now = timezone.now()
    CaseContribution.objects.bulk_create(
        [
            CaseContribution(
                case_id=case.pk,
                keys=aggregates._encode(aggregates.case_keys(case, allocations.get(case.pk, ()))),
                dirty=False,
                refreshed_at=now,
            )
            for case in aggregates.cases_for_keys(ids)
        ],
        batch_size=aggregates.BATCH,
    )
