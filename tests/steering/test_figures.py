"""Each figure of the dashboard and of the quota page against the hand-counted territory (conftest.py)."""

from datetime import date
from decimal import Decimal

import pytest

from cases import choices
from steering import aggregates, figures
from steering.models import Allocation, CaseContribution, StatCount

from .builders import EPCI_TPM

SMALL = "moins de 5"
TODAY = date(2026, 12, 1)
YEAR_2026 = figures.Filters("2026-01", "2026-12")


def tables_of(user, filters=YEAR_2026):
    scope = figures.scope_for(user)
    data = figures.dashboard(scope, filters, today=TODAY)
    return {t.key: {str(row[0]): row[1:] for row in t.rows} for t in data["tables"]}


def test_small_cell_rule():
    assert [figures.small(n) for n in (0, 1, 4, 5, 12)] == [0, SMALL, SMALL, 5, 12]
    assert figures.rate(1, 4) == SMALL
    assert figures.rate(0, 0) == "–"
    assert figures.rate(1, 8) == "12,5 %"


def test_stock_of_open_cases(territory):
    t = tables_of(territory.admin)
    assert t["stock_etape"]["Diagnostic social en cours"] == [6]
    assert t["stock_etape"]["En attente de commission"] == [SMALL]
    assert t["stock_etape"]["En attente de proposition"] == [SMALL]
    assert t["stock_etape"]["En attente de signature du bail"] == [0]  # a zero stays a zero
    criteria = t["stock_critere"]
    assert criteria["i) Dépourvu de logement, y compris hébergé par des tiers"] == [9]
    assert criteria["h) Enfant mineur en logement sur-occupé ou non décent"] == [SMALL]
    assert t["stock_commune"] == {"Toulon": [9]}
    assert t["stock_dalo"] == {"Reconnus DALO": [SMALL], "Non DALO": [7], "Dossiers protégés": [SMALL]}


def test_monthly_flows_and_closings(territory):
    t = tables_of(territory.admin)
    flows = t["flux_mensuels"]
    assert flows["2026-01"] == [17, 8, 0, 0]  # flagged, labelled, first proposal, rehoused
    assert flows["2026-02"] == [0, 0, 9, 0]
    assert flows["2026-03"] == [0, 0, 0, 6]
    assert flows["2026-04"] == [0, 0, 0, SMALL]
    assert t["clotures_motif"] == {"Relogé dans le parc social": [8]}


def test_delays_median_and_ninth_decile(territory):
    t = tables_of(territory.admin)
    # End to end: 5 January to 1–6 March (55 to 60 days) six times, to 10 April (95 days, in the 91-day bin) twice.
    assert t["delais_etapes"]["De bout en bout (signalement → relogement)"] == [8, 58, 91]
    # The diagnostic of the 8 rehoused cases: 5 to 15 January, 10 days each.
    assert t["delais_etapes"]["Diagnostic social"] == [8, 10, 10]
    assert t["delais_etapes"]["Réponse du ménage"][0] == 10  # 8 accepted, 1 refusal, 1 silence (dated too)


def test_dalo_deadline_compliance(territory):
    t = tables_of(territory.admin)
    within, late, share, past = t["dalo_delai"]["83"]
    assert (within, late, share, past) == (SMALL, 0, SMALL, SMALL)


def test_offers_and_refusals(territory):
    t = tables_of(territory.admin)
    l1, l2 = territory.world.landlord.name, territory.world.other_landlord.name
    # proposals, accepted, refused or no reply, refusal rate (refusals / answered)
    assert t["offres_bailleur"][l1] == [8, 6, SMALL, "25,0 %"]
    assert t["offres_bailleur"][l2] == [SMALL, SMALL, 0, SMALL]
    assert t["offres_qpv"] == {"En QPV": [SMALL, SMALL, 0, SMALL], "Hors QPV": [8, 6, SMALL, "25,0 %"]}
    assert t["offres_typologie"]["T3"] == [10, 8, SMALL, "20,0 %"]
    assert t["refus_motif"] == {"Loyer ou charges": [SMALL], "Absence de réponse": [SMALL]}


def test_rehousings_per_contingent(territory):
    t = tables_of(territory.admin)
    assert t["relogements_reservataire"] == {
        territory.world.reservataire.name: [6, SMALL, SMALL],
        "Parc non réservé des bailleurs": [SMALL, 0, 0],
    }


def test_allocation_record_at_the_decision(territory):
    first = Allocation.objects.get(case=territory.rehoused[0])
    assert (first.reservataire, first.in_qpv, first.is_dalo) == (territory.world.reservataire, False, True)
    assert (first.annual_income, first.consumption_units, first.income_per_uc) == (
        Decimal("9000.00"),
        Decimal("1.0"),
        Decimal("9000.00"),
    )
    assert (first.quartile_threshold, first.quartile) == (Decimal("10000.00"), 1)
    assert Allocation.objects.get(case=territory.rehoused[1]).quartile == 2
    assert Allocation.objects.filter(reservataire__isnull=True).count() == 2


def test_quota_arithmetic(territory):
    scope = figures.scope_for(territory.admin)
    q = figures.quotas(scope, YEAR_2026, EPCI_TPM)
    by_label = {c["label"]: c for c in q["contingents"]}
    al = by_label[territory.world.reservataire.name]
    # 6 recorded + 14 declared = 20; 25 % of 20 = 5 needed; 6 priority households (2 DALO): met.
    assert (al["total"], al["dalo"], al["achieved"], al["target"], al["missing"], al["share"]) == (
        20,
        2,
        6,
        5,
        0,
        "30,0 %",
    )
    l2 = by_label[f"{territory.world.other_landlord.name} (parc non réservé)"]
    assert (l2["total"], l2["achieved"], l2["target"], l2["missing"]) == (8, 2, 2, 0)
    mix = {row["label"]: row for row in q["landlords"]}
    l1 = mix[territory.world.landlord.name]
    # Outside QPV: 4 recorded + 10 declared = 14; first quartile 1 + 3 = 4; 25 % of 14 = 3.5 → 4: met.
    assert (l1["q1"]["total"], l1["q1"]["achieved"], l1["q1"]["target"], l1["q1"]["missing"]) == (14, 4, 4, 0)
    # Inside QPV: 2 + 4 = 6; other quartiles 1 + 2 = 3; 50 % of 6 = 3: met.
    assert (l1["others"]["total"], l1["others"]["achieved"], l1["others"]["target"]) == (6, 3, 3)
    other = mix[territory.world.other_landlord.name]
    assert (other["q1"]["total"], other["q1"]["achieved"], other["q1"]["target"], other["q1"]["missing"]) == (
        8,
        0,
        2,
        2,
    )
    assert other["others"]["total"] == 0 and other["others"]["target"] == 0
    # Territory: outside 22, first quartile 4, 25 % of 22 = 5.5 → 6: 2 missing; inside 6, 3 others, 3 needed.
    t1, t2 = q["territory_q1"], q["territory_others"]
    assert (t1["total"], t1["achieved"], t1["target"], t1["missing"], t1["met"]) == (22, 4, 6, 2, False)
    assert (t2["total"], t2["achieved"], t2["target"], t2["missing"], t2["met"]) == (6, 3, 3, 0, True)
    assert [t.pct for t in q["targets"]] == [25, 25, 50]


def test_targets_follow_the_territory_settings(territory):
    from steering.models import TerritoryYear

    TerritoryYear.objects.filter(epci_siren=EPCI_TPM, year=2026).update(priority_quota_pct=Decimal("40"))
    q = figures.quotas(figures.scope_for(territory.admin), YEAR_2026, EPCI_TPM)
    al = next(c for c in q["contingents"] if c["label"] == territory.world.reservataire.name)
    assert (al["target"], al["missing"]) == (8, 2)  # 40 % of 20


def test_landlord_sees_only_its_own_figures(territory):
    world = territory.world
    t = tables_of(world.landlord_agent)
    assert set(t["offres_bailleur"]) == {world.landlord.name}
    assert set(t["relogements_reservataire"]) == {world.reservataire.name}
    assert t["stock_etape"]["En attente de proposition"] == [SMALL]  # the case designated to it
    assert t["stock_etape"]["Diagnostic social en cours"] == [0]
    assert "delais_etapes" not in t
    q = figures.quotas(figures.scope_for(world.landlord_agent), YEAR_2026, EPCI_TPM)
    assert [c["label"] for c in q["contingents"]] == [world.reservataire.name]
    assert [row["label"] for row in q["landlords"]] == [world.landlord.name]
    other = tables_of(world.other_landlord_agent)
    assert set(other["offres_bailleur"]) == {world.other_landlord.name}


def test_filters_by_commune_reservataire_and_period(territory):
    world = territory.world
    t = tables_of(territory.admin, figures.Filters("2026-01", "2026-12", commune="83126"))  # La Seyne: nothing
    assert t["stock_etape"]["Diagnostic social en cours"] == [0]
    t = tables_of(territory.admin, figures.Filters("2026-01", "2026-12", reservataire=world.reservataire.pk))
    assert set(t["relogements_reservataire"]) == {world.reservataire.name}
    t = tables_of(territory.admin, figures.Filters("2026-04", "2026-12"))
    assert t["relogements_reservataire"] == {"Parc non réservé des bailleurs": [SMALL, 0, 0]}


def test_bad_filters_are_ignored_with_a_french_message():
    f = figures.parse_filters({"debut": "2026-13", "fin": "hier", "commune": "x", "territoire": "12"}, TODAY)
    assert (f.start, f.end, f.commune, f.epci) == ("2026-01", "2026-12", "", "")
    assert len(f.errors) == 4 and all("doit" in str(e) or "est" in str(e) for e in f.errors)
    f = figures.parse_filters({"debut": "2026-06", "fin": "2026-02"}, TODAY)
    assert (f.start, f.end) == ("2026-02", "2026-06") and f.errors


def test_incremental_refresh_equals_a_rebuild(territory):
    world = territory.world
    case = territory.rehoused[0].__class__.objects.filter(status=choices.CaseStatus.DIAGNOSTIC).first()
    case.status = choices.CaseStatus.CLOSED
    case.closure_reason = choices.ClosureReason.WITHDRAWN
    case.closed_at = case.created_at
    case.save()
    assert CaseContribution.objects.get(case_id=case.pk).dirty
    aggregates.refresh_dirty()
    t = tables_of(territory.admin)
    assert t["stock_etape"]["Diagnostic social en cours"] == [5]
    assert t["clotures_motif"]["Désistement du ménage"] == [SMALL]
    incremental = sorted(StatCount.objects.filter(n__gt=0).values_list(*StatCount.KEY_FIELDS, "n"))
    aggregates.rebuild()
    assert sorted(StatCount.objects.filter(n__gt=0).values_list(*StatCount.KEY_FIELDS, "n")) == incremental
    assert world  # the world stays the same: only the aggregates were rebuilt


@pytest.mark.parametrize("days,expected", [(0, 0), (60, 60), (61, 56), (95, 91), (364, 364), (400, 390)])
def test_delay_bins(days, expected):
    assert aggregates.bin_days(days) == expected


def test_beat_task_refreshes_what_changed(territory):
    from django.conf import settings

    from steering.tasks import refresh_aggregates

    assert settings.CELERY_BEAT_SCHEDULE["steering-refresh"]["task"] == "steering.refresh"
    case = territory.rehoused[0].__class__.objects.filter(status=choices.CaseStatus.DIAGNOSTIC).first()
    case.is_protected = True
    case.save()
    assert refresh_aggregates.apply().get() == 1  # only the case written since the last refresh
    protected = StatCount.objects.filter(metric="stock", dim="protected", value="1")
    assert sum(protected.values_list("n", flat=True)) == 2
    assert refresh_aggregates.apply().get() == 0
