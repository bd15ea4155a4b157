"""Demo data for the steering pages: a year of allocations across contingents, inside and outside QPV.

Sixty fictitious households rehoused over the last twelve months (some after a refusal), on dwellings of
the two demo landlords reserved for Action Logement, the State (préfet), the Métropole, or the landlord's
own stock; the territory's yearly targets and first-quartile threshold; allocations declared from the
SNE for the households not followed here. Written as history-keeping saves by the system actor; the
allocation records and the aggregates follow from the receivers. Idempotent: NUDs are fixed.
"""

from contextlib import contextmanager
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cases import choices
from cases.audit import acting_as, system_actor
from cases.models import (
    CaleolDecision,
    Case,
    CaseCriterion,
    CommitteeReview,
    Diagnostic,
    Dwelling,
    Household,
    HouseholdMember,
    HouseholdReply,
    Organisation,
    Proposal,
)
from permissions.models import Membership
from permissions.roles import Role

from .models import DeclaredAllocations, TerritoryYear

COUNT = 60
EPCI = ("248300543", "Métropole Toulon Provence Méditerranée")
COMMUNES = ["83137", "83126", "83069", "83062", "83129", "83144"]  # Toulon, La Seyne, Hyères, La Garde, …
QPV_COMMUNES = {"83137", "83126", "83069"}
# The yearly first-quartile threshold (€ per consumption unit and year): a demo value of the order of
# those published for the Var's EPCIs, not the real arrêté.
THRESHOLD = Decimal("9870")
REFUSAL_MOTIVES = [
    choices.RefusalMotive.LOCATION,
    choices.RefusalMotive.NEIGHBOURHOOD,
    choices.RefusalMotive.SIZE,
    choices.RefusalMotive.RENT,
    choices.RefusalMotive.DISTANCE,
]


def demo_nud(index: int) -> str:
    return f"0832507PILOT{index:05d}X"  # département 83, filed 07/2025, desk "PILOT"


@contextmanager
def _past_dates():
    """Let the demo write past dates into auto_now_add fields (a year of activity)."""
    fields = [
        f
        for m in (Case, Proposal, CommitteeReview, Household)
        for f in m._meta.concrete_fields
        if getattr(f, "auto_now_add", False)
    ]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def _aware(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def load_steering_demo(*, orgs: dict, users: dict, names: list, today=None) -> int:
    """`orgs`/`users`: the demo loader's organisations and accounts by key; `names`: its fictitious last
    names. Returns the households created."""
    today = today or timezone.localdate()
    epci_siren, epci_name = EPCI
    with acting_as(system_actor(), "Données de démonstration (pilotage)"):
        for year in (today.year - 1, today.year):
            TerritoryYear.objects.get_or_create(
                epci_siren=epci_siren,
                year=year,
                defaults={
                    "epci_name": epci_name,
                    "first_quartile_threshold": THRESHOLD - (today.year - year) * 150,
                    "threshold_published_on": today.replace(year=year, month=1, day=15),
                },
            )
        contingents = [orgs["action_logement"], orgs["state"], orgs["metropole"], None]
        for landlord in (orgs["landlord1"], orgs["landlord2"]):
            for k, reservataire in enumerate(contingents):
                DeclaredAllocations.objects.get_or_create(
                    epci_siren=epci_siren,
                    year=today.year,
                    landlord=landlord,
                    reservataire=reservataire,
                    defaults={
                        "outside_qpv": 10 + 2 * k,
                        "outside_qpv_first_quartile": 2 + k,
                        "inside_qpv": 5 + k,
                        "inside_qpv_other_quartiles": 3 + k,
                        "source": "SNE (chiffres fictifs de démonstration)",
                    },
                )
        # The rehoused households' referent: an archive account without e-mail or password, so that a year of
        # past events does not fill the demo users' notifications.
        archive = _archive_referent(orgs)
        created = 0
        for index in range(COUNT):
            if Household.objects.filter(nud=demo_nud(index)).exists():
                continue
            with transaction.atomic(), _past_dates():
                _rehoused_household(index, today, orgs, users, contingents, archive, names[index % len(names)])
            created += 1
    return created


def _rehoused_household(index, today, orgs, users, contingents, archive, last_name):
    lease_day = today - timedelta(days=6 * index + 3)
    created_day = lease_day - timedelta(days=120 + (index * 37) % 150)
    commune = COMMUNES[index % len(COMMUNES)]
    children = index % 4
    household = Household.objects.create(
        nud=demo_nud(index),
        applicant_last_name=last_name,
        applicant_first_name="Camille",
        applicant_birth_date=today.replace(year=today.year - 24 - index % 35, day=1),
        address=f"{index} rue du Tableau de bord (adresse fictive)",
        commune_id=commune,
        housing_situation=[choices.HousingSituation.HOSTED, choices.HousingSituation.SHELTER][index % 2],
        # From about 500 to 2,000 € a month: some households under the first-quartile threshold, most above.
        monthly_wages=Decimal(450 + (index * 97) % 1500),
        monthly_family_benefits=Decimal(120 * children),
        created_at=_aware(created_day),
    )
    for n in range(children):
        HouseholdMember.objects.create(
            household=household,
            first_name=f"Enfant{n}",
            last_name=household.applicant_last_name,
            relationship=choices.Relationship.CHILD,
            birth_date=today.replace(year=today.year - 2 - 5 * n, day=1),
        )
    is_dalo = index % 4 == 0
    case = Case.objects.create(
        household=household,
        organisation=archive.memberships.get().organisation,
        referent=archive,
        is_dalo=is_dalo,
        comed_decision_date=created_day - timedelta(days=20) if is_dalo else None,
        created_at=_aware(created_day),
    )
    CaseCriterion.objects.create(
        case=case,
        code="dalo" if is_dalo else ["b", "c", "i", "h", "j", "e"][index % 6],
        source=choices.CriterionSource.DALO_DECISION if is_dalo else choices.CriterionSource.SOCIAL_WORKER,
        evidence_note="Pièce justificative fictive (démonstration).",
    )
    Diagnostic.objects.create(
        case=case,
        family_situation="Situation fictive (démonstration).",
        monthly_resources=household.monthly_income,
        completed_at=_aware(created_day + timedelta(days=12 + index % 20)),
    )
    landlord_key = "landlord1" if index % 2 else "landlord2"
    landlord_user = users["bailleur.hem" if index % 2 else "bailleur.lfv"]
    reservataire = contingents[(index + index // 4) % len(contingents)]
    CommitteeReview.objects.create(
        case=case,
        outcome=choices.CommitteeOutcome.LABELLED,
        orientation=choices.Orientation.ORDINARY,
        designated_landlord=orgs[landlord_key],
        target_reservataire=reservataire,
        decided_by=users["presidence.tpm"],
        decided_at=_aware(created_day + timedelta(days=40 + index % 15)),
    )
    offer_day = created_day + timedelta(days=60 + index % 20)
    if index % 3 == 0:  # a first offer refused
        refused = _proposal(index, "r", orgs[landlord_key], landlord_user, case, commune, reservataire, offer_day)
        HouseholdReply.objects.create(
            proposal=refused,
            answer=choices.ReplyAnswer.REFUSED,
            refusal_motive=REFUSAL_MOTIVES[index % len(REFUSAL_MOTIVES)],
            replied_on=offer_day + timedelta(days=8),
        )
        offer_day += timedelta(days=25)
    proposal = _proposal(index, "a", orgs[landlord_key], landlord_user, case, commune, reservataire, offer_day)
    CaleolDecision.objects.create(
        proposal=proposal, decision=choices.CaleolDecisionType.ALLOCATED, decided_on=lease_day - timedelta(days=18)
    )
    HouseholdReply.objects.create(
        proposal=proposal, answer=choices.ReplyAnswer.ACCEPTED, replied_on=lease_day - timedelta(days=9)
    )
    proposal.lease_signed_on = lease_day
    proposal.save()  # the receiver records the allocation
    case.status = choices.CaseStatus.CLOSED
    case.closure_reason = choices.ClosureReason.REHOUSED_SOCIAL
    case.closed_at = _aware(lease_day, 17)
    case.designated_landlord = orgs[landlord_key]
    case.target_reservataire = reservataire
    case.save()


def _archive_referent(orgs):
    organisation, created = Organisation.objects.get_or_create(
        name="Service habitat de la Métropole (démo, historique)", defaults={"kind": choices.OrganisationKind.COMMUNE}
    )
    if created:
        organisation.communes.set(orgs["metropole"].communes.all())
    user, created = get_user_model().objects.get_or_create(
        username="historique.pilotage", defaults={"first_name": "Archives", "last_name": "Pilotage-Démo"}
    )
    if created:
        user.set_unusable_password()
        user.save()
    Membership.objects.get_or_create(user=user, organisation=organisation, role=Role.SOCIAL_WORKER)
    return user


def _proposal(index, suffix, landlord: Organisation, user, case, commune, reservataire, day):
    in_qpv = commune in QPV_COMMUNES and index % 3 != 1
    dwelling = Dwelling.objects.create(
        landlord=landlord,
        address=f"Résidence Pilotage {index}{suffix} (adresse fictive)",
        commune_id=commune,
        in_qpv=in_qpv,
        typology=["T2", "T3", "T3", "T4", "T1", "T5"][index % 6],
        surface_m2=Decimal("55"),
        rent=Decimal("400"),
        charges=Decimal("80"),
        reservataire=reservataire,
        available_from=day,
    )
    return Proposal.objects.create(
        case=case,
        dwelling=dwelling,
        created_by=user,
        created_at=_aware(day),
        notified_on=day + timedelta(days=2),
    )
