from datetime import date
from decimal import Decimal

import pytest

from cases import choices
from permissions.roles import Role
from steering import aggregates
from steering.models import DeclaredAllocations, TerritoryYear
from tests.factories import LA_SEYNE, TOULON, member

from .builders import EPCI_TPM, open_case, proposal, rehoused_case, reply

YEAR = 2026


class Territory:
    """The hand-counted territory of the steering tests (Toulon, year 2026).

    Open cases: 6 at the diagnostic step (criterion i), 2 at the committee (criteria i and h, DALO with a
    COMED decision of 5 January 2026, one protected).
    Rehoused (landlord = world.landlord "L1" unless said; threshold 10,000 € per consumption unit):
      Action Logement contingent, 6 leases: 2 DALO; 4 outside QPV (1 first quartile: 750 €/month alone),
      2 inside QPV (1 first quartile, 1 other); the first of them after a refusal (rent).
      L2 (world.other_landlord) own stock, 2 leases outside QPV, other quartiles.
    Declared from the SNE: L1/AL 10 outside QPV (3 first quartile), 4 inside (2 other quartiles);
      L2 own stock 6 outside QPV (0 first quartile).
    One more offer: an open case at the proposal step with an offer left unanswered (no reply) by L1.
    """

    def __init__(self, world):
        self.world = world
        TerritoryYear.objects.create(
            epci_siren=EPCI_TPM,
            year=YEAR,
            first_quartile_threshold=Decimal("10000"),
            threshold_published_on=date(2026, 1, 15),
        )
        for _ in range(6):
            open_case(world, status=choices.CaseStatus.DIAGNOSTIC)
        open_case(world, status=choices.CaseStatus.COMMITTEE, criteria=("i", "h"), is_dalo=True, protected=True)
        open_case(world, status=choices.CaseStatus.COMMITTEE, criteria=("i", "h"), is_dalo=True)
        al, l1, l2 = world.reservataire, world.landlord, world.other_landlord
        low, high = Decimal("750"), Decimal("1500")
        specs = [
            dict(in_qpv=False, is_dalo=True, monthly_wages=low, refused_first=choices.RefusalMotive.RENT),
            dict(in_qpv=False, is_dalo=True, monthly_wages=high),
            dict(in_qpv=False, monthly_wages=high),
            dict(in_qpv=False, monthly_wages=high),
            dict(in_qpv=True, monthly_wages=low),
            dict(in_qpv=True, monthly_wages=high),
        ]
        self.rehoused = [
            rehoused_case(world, landlord=l1, reservataire=al, lease=date(2026, 3, 1 + i), **spec)
            for i, spec in enumerate(specs)
        ]
        self.rehoused += [
            rehoused_case(world, landlord=l2, monthly_wages=high, lease=date(2026, 4, 10)) for _ in range(2)
        ]
        waiting = open_case(world, status=choices.CaseStatus.PROPOSAL, designated_landlord=l1, target_reservataire=al)
        reply(proposal(world, waiting, landlord=l1, reservataire=al), choices.ReplyAnswer.NO_REPLY)
        DeclaredAllocations.objects.create(
            epci_siren=EPCI_TPM,
            year=YEAR,
            landlord=l1,
            reservataire=al,
            outside_qpv=10,
            outside_qpv_first_quartile=3,
            inside_qpv=4,
            inside_qpv_other_quartiles=2,
        )
        DeclaredAllocations.objects.create(epci_siren=EPCI_TPM, year=YEAR, landlord=l2, outside_qpv=6)
        aggregates.refresh_dirty()
        self.admin = member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON, LA_SEYNE], username="admin-territoire")


@pytest.fixture
def territory(world):
    return Territory(world)
