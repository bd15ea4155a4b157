"""A volume fixture for the steering dashboard: up to 1,000,000 cases written by set-based SQL.

BENCHMARK DATA ONLY. These rows bypass the services on purpose: no workflow process, no tasks, no
grants, no history, no audit entries (a volume fixture is not a business write, and the steering
figures read none of those). What is written is exactly what steering/aggregates.py reads, coherent
enough for every figure to be non-trivial:

- cases_household (commune), cases_case (status, DALO and protection flags, préfet's deadline, created
  and closed dates, closure reason, designated landlord, target réservataire), cases_casecriterion;
- cases_diagnostic (completed_at), cases_committeereview (priority reviews: labelled or not kept);
- cases_dwelling (a pool shared by the proposals: commune, landlord, contingent, QPV, typology),
  cases_proposal, cases_caleoldecision, cases_householdreply (accepted, refused with a motive, no reply),
  the lease date, and steering_allocation for each signed lease.

Every case's profile is a pure function of its index (PostgreSQL's hashint8), so the data do not
depend on the batch size and a second run with a larger --cases adds the missing cases only.
The aggregates (StatCount) are then recomputed by the ordinary full rebuild (steering.aggregates).
PostgreSQL only (generate_series, hashint8).
"""

from django.db import connection, transaction

from cases import choices
from cases.models import Case, Commune, Organisation

K = choices.OrganisationKind
PREFIX = "SV"  # household NUD and dwelling RPLS prefix: marks the rows of this fixture
CRITERIA = [c for c in choices.PriorityCriterion.values if c != choices.PriorityCriterion.DALO]
MOTIVES = [m for m in choices.RefusalMotive.values if m not in (choices.RefusalMotive.NO_REPLY, "aggressor_nearby")]
OTHER_CLOSINGS = ["withdrawn", "unreachable", "resolved", "left_territory", "radiated"]
TYPOLOGIES = ["T1", "T2", "T3", "T3", "T4", "T4", "T5", "T6"]

# The status of case k comes from its bucket b = hash % 100:
#   0-9 diagnostic, 10-17 committee, 18-29 proposal (some after a non-allocation), 30-34 caleol,
#   35-39 reply, 40-44 lease, 45-69 closed rehoused (social, signed lease, allocation record),
#   70-74 closed rehoused (private), 75-84 closed not kept, 85-99 closed for another reason.
# A third of the cases with a proposal had a first one refused (or unanswered) before.


def _h(salt: int) -> str:
    """A reproducible pseudo-random non-negative integer of the case index k (SQL)."""
    return f"abs(hashint8(k * 16 + {salt})::bigint)"


def reference() -> dict:
    """The small lists the fixture draws from: what generate_territory built (communes, organisations,
    referents). Communes are repeated by the square root of their population (big towns weigh more)."""
    communes = []
    for insee, population in Commune.objects.exclude(epci_siren="").values_list("insee_code", "population"):
        communes += [insee] * max(1, min(40, int((max(population, 1) ** 0.5) / 10)))
    landlords = list(Organisation.objects.filter(kind=K.LANDLORD).order_by("pk").values_list("pk", flat=True))
    reservataires = list(
        Organisation.objects.filter(kind__in=[K.RESERVATAIRE, K.STATE, K.EPCI])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    referents = list(
        Case.objects.exclude(household__nud__startswith=PREFIX)
        .values_list("organisation_id", "referent_id")
        .distinct()
        .order_by("organisation_id", "referent_id")
    )
    if not (communes and landlords and reservataires and referents):
        raise RuntimeError("Territoire de mesure absent : lancez d'abord generate_territory.")
    return {
        "communes": communes,
        "landlords": landlords,
        "reservataires": reservataires,
        "orgs": [o for o, _r in referents],
        "referents": [r for _o, r in referents],
    }


def existing() -> int:
    return Case.objects.filter(household__nud__startswith=PREFIX).count()


def _max_id(cursor, table) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    return cursor.fetchone()[0]


def _reset_sequences(cursor, tables) -> None:
    for table in tables:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
        )


def generate(first: int, last: int, ref: dict, national_landlord: int, batch: int = 100_000, log=None) -> None:
    """Write cases first..last (1-based fixture indexes), `batch` per transaction."""
    for start in range(first, last + 1, batch):
        end = min(last, start + batch - 1)
        with transaction.atomic():
            _generate_batch(start, end, ref, national_landlord)
        if log:
            log(end)


def _generate_batch(first: int, last: int, ref: dict, national_landlord: int) -> None:
    n = last - first + 1
    with connection.cursor() as cur:
        case0, hh0, dw0 = (_max_id(cur, t) for t in ("cases_case", "cases_household", "cases_dwelling"))
        p0 = _max_id(cur, "cases_proposal")
        params = {
            "first": first,
            "last": last,
            "case0": case0 - first + 1,
            "hh0": hh0 - first + 1,
            "p0": p0 - first + 1,
            "p1": p0 + n - first + 1,
            "communes": ref["communes"],
            "landlords": ref["landlords"],
            "reservataires": ref["reservataires"],
            "orgs": ref["orgs"],
            "referents": ref["referents"],
            "criteria": CRITERIA,
            "motives": MOTIVES,
            "closings": OTHER_CLOSINGS,
            "typologies": TYPOLOGIES,
            "national": national_landlord,
            "dw0": dw0,
            "ndw": max(50, n // 8),
        }
        # A pool of dwellings for this batch: 30 % of the national landlord (the benchmark landlord's),
        # 40 % the landlord's own stock, the rest in a réservataire's contingent; a quarter in QPV.
        cur.execute(
            """
            INSERT INTO cases_dwelling (id, rpls_id, address, in_qpv, typology, surface_m2, floor, has_lift,
                wheelchair_accessible, financing, rent, charges, available_from, commune_id, landlord_id,
                reservataire_id)
            SELECT %(dw0)s + j, 'SV' || (%(dw0)s + j), 'Logement de mesure', j %% 4 = 0,
                (%(typologies)s::text[])[1 + j %% 8], 60, j %% 6, j %% 2 = 0, false, 'PLUS', 450, 80,
                CURRENT_DATE,
                (%(communes)s::text[])[1 + abs(hashint8(j * 3 + 1)::bigint) %% cardinality(%(communes)s::text[])],
                CASE WHEN j %% 10 < 3 THEN %(national)s
                     ELSE (%(landlords)s::bigint[])[1 + j %% cardinality(%(landlords)s::bigint[])] END,
                CASE WHEN j %% 10 IN (0, 3, 6, 9) THEN NULL
                     ELSE (%(reservataires)s::bigint[])[1 + j %% cardinality(%(reservataires)s::bigint[])] END
            FROM generate_series(1, %(ndw)s) j
            """,
            params,
        )
        cur.execute("DROP TABLE IF EXISTS sv")
        cur.execute(
            f"""
            CREATE TEMP TABLE sv ON COMMIT DROP AS
            SELECT k, %(case0)s + k AS case_id, %(hh0)s + k AS household_id,
                %(p0)s + k AS proposal_id, %(p1)s + k AS first_proposal_id,
                {_h(1)} %% 100 AS b,
                20 + {_h(2)} %% 1100 AS age,
                {_h(3)} %% 5 = 0 AS dalo,
                {_h(4)} %% 40 = 0 AS protected,
                {_h(5)} %% 3 = 0 AS refused_first,
                {_h(6)} %% 4 = 0 AS not_allocated_first,
                {_h(7)} AS r,
                (%(communes)s::text[])[1 + {_h(8)} %% cardinality(%(communes)s::text[])] AS commune,
                1 + {_h(9)} %% cardinality(%(orgs)s::bigint[]) AS who,
                %(dw0)s + 1 + {_h(10)} %% %(ndw)s AS dwelling_id,
                %(dw0)s + 1 + {_h(11)} %% %(ndw)s AS first_dwelling_id,
                now() - make_interval(days => (20 + {_h(2)} %% 1100)::int, secs => ({_h(12)} %% 86400)::int)
                    AS created
            FROM generate_series(%(first)s, %(last)s) k
            """,
            params,
        )
        cur.execute(
            """
            ALTER TABLE sv ADD COLUMN status text, ADD COLUMN closure text, ADD COLUMN closed timestamptz,
                ADD COLUMN labelled boolean, ADD COLUMN proposed boolean, ADD COLUMN first_proposed boolean,
                ADD COLUMN landlord bigint, ADD COLUMN reservataire bigint;
            UPDATE sv SET
                status = CASE WHEN b < 10 THEN 'diagnostic' WHEN b < 18 THEN 'committee' WHEN b < 30 THEN 'proposal'
                    WHEN b < 35 THEN 'caleol' WHEN b < 40 THEN 'reply' WHEN b < 45 THEN 'lease' ELSE 'closed' END,
                closure = CASE WHEN b < 45 THEN '' WHEN b < 70 THEN 'rehoused_social'
                    WHEN b < 75 THEN 'rehoused_private' WHEN b < 85 THEN 'not_kept'
                    ELSE (%(closings)s::text[])[1 + r %% 5] END,
                closed = CASE WHEN b < 45 THEN NULL WHEN b < 70 THEN created + age * interval '0.7 day'
                    ELSE created + age * interval '0.5 day' END,
                labelled = b >= 18 AND NOT (b BETWEEN 75 AND 84),
                proposed = b BETWEEN 30 AND 69,
                first_proposed = (b BETWEEN 30 AND 69 AND refused_first)
                    OR (b BETWEEN 18 AND 29 AND not_allocated_first);
            UPDATE sv SET landlord = d.landlord_id, reservataire = d.reservataire_id
                FROM cases_dwelling d WHERE d.id = sv.dwelling_id AND sv.proposed;
            """,
            params,
        )
        cur.execute(
            """
            INSERT INTO cases_household (id, nud, applicant_last_name, applicant_first_name, applicant_birth_date,
                residence_status, phone, email, address, housing_situation, tax_income_n2, monthly_wages,
                monthly_rsa, monthly_aah, monthly_family_benefits, monthly_other_income, created_at, commune_id)
            SELECT household_id, 'SV' || lpad(k::text, 16, '0'), 'Volume', 'Mesure', DATE '1980-01-01', 'french',
                '', '', '', 'hosted', NULL, 0, 0, 0, 0, 0, created, commune FROM sv;
            INSERT INTO cases_case (id, status, is_protected, is_dalo, comed_decision_date, dalo_offer_deadline,
                refusal_count, dalo_loss_review_pending, created_at, closed_at, closure_reason, closure_comment,
                referent_id, household_id, designated_landlord_id, organisation_id, target_reservataire_id,
                decided_in_committee)
            SELECT case_id, status, protected, dalo, CASE WHEN dalo THEN created::date END,
                CASE WHEN dalo THEN created::date + 180 END,
                CASE WHEN first_proposed AND b >= 30 THEN 1 ELSE 0 END, false, created, closed, closure, '',
                (%(referents)s::int[])[who], household_id, landlord, (%(orgs)s::bigint[])[who], reservataire,
                labelled
            FROM sv;
            INSERT INTO cases_casecriterion (case_id, code, source, evidence_note)
            SELECT case_id, (%(criteria)s::text[])[1 + r %% cardinality(%(criteria)s::text[])], 'social_worker', ''
                FROM sv
            UNION ALL
            SELECT case_id, (%(criteria)s::text[])[1 + (r + 1 + r / 7 %% 3) %% cardinality(%(criteria)s::text[])],
                'social_worker', '' FROM sv WHERE r %% 4 = 0
            UNION ALL
            SELECT case_id, 'dalo', 'dalo_decision', '' FROM sv WHERE dalo;
            INSERT INTO cases_diagnostic (case_id, family_situation, monthly_resources, monthly_housing_cost,
                monthly_other_charges, debts_amount, debts_description, over_indebtedness_plan, entitlements,
                health_autonomy, accessibility_need, work_school_care_locations, housing_history,
                independent_living, support_needed, violence_facts, wishes, urgency, recommended_typology,
                social_narrative, committee_synthesis, recommendation, completed_at)
            SELECT case_id, '', 1200, 0, 0, 0, '', false, '', '', false, '', '', '', 'none', '', '', 'medium',
                'T3', '', '', '', CASE WHEN b >= 10 THEN created + age * interval '0.1 day' END
            FROM sv;
            INSERT INTO cases_committeereview (case_id, kind, outcome, orientation, support_measure, missing_items,
                reason, redirected_to, decided_at, decided_by_id, designated_landlord_id, target_reservataire_id)
            SELECT case_id, 'priority', CASE WHEN labelled THEN 'labelled' ELSE 'not_kept' END,
                CASE WHEN labelled THEN 'ordinary' ELSE '' END, '', '', '', '',
                created + age * interval '0.2 day', (%(referents)s::int[])[who], landlord, reservataire
            FROM sv WHERE b >= 18;
            """,
            params,
        )
        # The proposals: an earlier one (refused, unanswered or not allocated), then the current one.
        cur.execute(
            """
            INSERT INTO cases_proposal (id, match_override_reason, notified_on, reply_deadline, lease_signed_on,
                created_at, case_id, created_by_id, dwelling_id, delivered_on, estimated_apl, match_warnings,
                registered_letter, landlord_id)
            SELECT sv.first_proposal_id, '', CASE WHEN b >= 30 THEN (created + age * interval '0.29 day')::date END,
                NULL, NULL, created + age * interval '0.25 day', case_id, (%(referents)s::int[])[who],
                d.id, NULL, 0, '[]', false, d.landlord_id
            FROM sv JOIN cases_dwelling d ON d.id = sv.first_dwelling_id WHERE first_proposed;
            INSERT INTO cases_proposal (id, match_override_reason, notified_on, reply_deadline, lease_signed_on,
                created_at, case_id, created_by_id, dwelling_id, delivered_on, estimated_apl, match_warnings,
                registered_letter, landlord_id)
            SELECT proposal_id, '', CASE WHEN b >= 35 THEN (created + age * interval '0.52 day')::date END, NULL,
                CASE WHEN b >= 45 THEN (created + age * interval '0.7 day')::date END,
                created + age * interval '0.4 day', case_id, (%(referents)s::int[])[who], dwelling_id, NULL, 0,
                '[]', false, landlord
            FROM sv WHERE proposed;
            INSERT INTO cases_caleoldecision (decision, rank, missing_document, non_allocation_reason,
                inadmissibility_reason, reasons_detail, decided_on, proposal_id)
            SELECT CASE WHEN b >= 30 THEN 'allocated' ELSE 'not_allocated' END, NULL::smallint, '',
                CASE WHEN b >= 30 THEN '' ELSE 'better_ranked' END, '', '',
                (created + age * interval '0.28 day')::date, first_proposal_id
            FROM sv WHERE first_proposed
            UNION ALL
            SELECT 'allocated', NULL, '', '', '', '', (created + age * interval '0.5 day')::date, proposal_id
            FROM sv WHERE proposed AND b >= 35;
            INSERT INTO cases_householdreply (answer, refusal_motive, comment, replied_on, proposal_id)
            SELECT CASE WHEN r %% 5 = 0 THEN 'no_reply' ELSE 'refused' END,
                CASE WHEN r %% 5 = 0 THEN 'no_reply'
                     ELSE (%(motives)s::text[])[1 + r / 5 %% cardinality(%(motives)s::text[])] END,
                '', (created + age * interval '0.32 day')::date, first_proposal_id
            FROM sv WHERE first_proposed AND b >= 30
            UNION ALL
            SELECT 'accepted', '', '', (created + age * interval '0.6 day')::date, proposal_id
            FROM sv WHERE proposed AND b >= 40;
            INSERT INTO steering_allocation (epci_siren, in_qpv, typology, is_dalo, is_priority, urban_renewal,
                decided_on, lease_signed_on, quartile, recorded_at, case_id, commune_id, landlord_id,
                proposal_id, reservataire_id)
            SELECT c.epci_siren, d.in_qpv, d.typology, sv.dalo, true, sv.r %% 20 = 0,
                (created + age * interval '0.5 day')::date, (created + age * interval '0.7 day')::date,
                CASE WHEN sv.r %% 17 = 0 THEN NULL WHEN sv.r %% 4 = 0 THEN 1 ELSE 2 END, now(), sv.case_id,
                d.commune_id, d.landlord_id, sv.proposal_id, d.reservataire_id
            FROM sv JOIN cases_dwelling d ON d.id = sv.dwelling_id JOIN cases_commune c ON c.insee_code = d.commune_id
            WHERE sv.b BETWEEN 45 AND 69;
            """,
            params,
        )
        _reset_sequences(
            cur,
            (
                "cases_case",
                "cases_household",
                "cases_dwelling",
                "cases_proposal",
                "cases_casecriterion",
                "cases_diagnostic",
                "cases_committeereview",
                "cases_caleoldecision",
                "cases_householdreply",
                "steering_allocation",
            ),
        )
        cur.execute("DROP TABLE sv")
