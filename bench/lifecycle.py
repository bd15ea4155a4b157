"""A typical case life, flag → rehoused with one refusal, run through the workflow services.

Used by the `audit_growth` command to measure how much history a case leaves behind. It creates its
own organisations, accounts and dwellings (named "mesure") and the caller rolls them back.
"""

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model

from cases import choices
from cases.models import Commune, Dwelling, Household, Organisation
from committees import services as committee_services
from committees.models import Committee, CommitteeMember
from committees.scripted import decide_in_writing
from permissions.models import Membership
from permissions.roles import Role
from workflows import services


def make_world(tag: str):
    commune = Commune.objects.order_by("insee_code").first()
    if commune is None:
        raise RuntimeError("No commune in the database: run migrate first.")
    User = get_user_model()

    def org(name, kind):
        organisation = Organisation.objects.create(name=f"{name} ({tag})", kind=kind)
        organisation.communes.set([commune])
        return organisation

    def person(username, role, organisation):
        user = User(username=f"{username}-{tag}", first_name="Mesure")
        user.set_unusable_password()  # active (permission checks need it) but cannot log in
        user.save()
        Membership.objects.create(user=user, organisation=organisation, role=role)
        return user

    ccas = org("CCAS", choices.OrganisationKind.COMMUNE)
    state = org("Commission", choices.OrganisationKind.STATE)
    landlord = org("Bailleur", choices.OrganisationKind.LANDLORD)
    reservataire = org("Réservataire", choices.OrganisationKind.RESERVATAIRE)
    world = {
        "commune": commune,
        "ccas": ccas,
        "landlord": landlord,
        "reservataire": reservataire,
        "social_worker": person("ts", Role.SOCIAL_WORKER, ccas),
        "commission": person("commission", Role.COMMISSION_MEMBER, state),
        "landlord_agent": person("bailleur", Role.LANDLORD_AGENT, landlord),
    }
    world["dwellings"] = [
        Dwelling.objects.create(
            landlord=landlord,
            address=f"{n} rue de la Mesure",
            commune=commune,
            typology="T3",
            surface_m2=Decimal("64"),
            rent=Decimal("420"),
            charges=Decimal("80"),
            available_from=date(2026, 12, 1),
        )
        for n in (1, 2)
    ]
    world["committee"] = _committee(tag, commune, state, world["commission"])
    return world


def _committee(tag, commune, state, commission):
    """The partner committee deciding the measured case (written procedure): the commission member
    and a secretary."""

    User = get_user_model()
    admin = User(username=f"admin-{tag}", is_superuser=True)
    admin.set_unusable_password()
    admin.save()
    secretary = User(username=f"secretariat-{tag}", first_name="Mesure")
    secretary.set_unusable_password()
    secretary.save()
    committee = Committee.objects.create(name=f"Commission ({tag})", quorum_count=2)
    committee.communes.set([commune])
    for user, function in (
        (commission, CommitteeMember.Function.MEMBER),
        (secretary, CommitteeMember.Function.SECRETARY),
    ):
        committee_services.committee_member_add(
            actor=admin, committee=committee, user=user, organisation=state, function=function
        )
    return committee


def make_household(world, n: int) -> Household:
    return Household.objects.create(
        nud=f"0992611MESUR{n:05d}Z",  # a valid NUD no real desk issues ("MESUR" desk code)
        applicant_last_name="Mesure",
        applicant_first_name="Cas",
        applicant_birth_date=date(1985, 5, 17),
        commune=world["commune"],
        address="1 rue de la Mesure",
        housing_situation=choices.HousingSituation.HOSTED,
        monthly_wages=Decimal("900"),
    )


def case_life(world, household):
    """flag → diagnostic → labelled → offer → CALEOL → refusal → offer → CALEOL → accepted → lease."""

    sw, landlord = world["social_worker"], world["landlord_agent"]
    case = services.case_flag(
        actor=sw,
        household=household,
        organisation=world["ccas"],
        criteria=[{"code": "i", "source": "social_worker", "evidence_note": "Hébergé chez un tiers"}],
    )
    case = services.diagnostic_complete(
        actor=sw,
        case=case,
        values={
            "family_situation": "Parent isolé avec deux enfants.",
            "monthly_resources": 1400,
            "social_narrative": "Récit détaillé de la situation.",
            "committee_synthesis": "Ménage hébergé, besoin d'un T3.",
            "recommended_typology": "T3",
        },
    )

    decide_in_writing(  # the committee decides: written procedure, every member votes
        committee=world["committee"],
        case=case,
        values={
            "outcome": choices.CommitteeOutcome.LABELLED,
            "orientation": choices.Orientation.ORDINARY,
            "designated_landlord": world["landlord"],
            "target_reservataire": world["reservataire"],
        },
    )
    case.refresh_from_db()
    for dwelling, answer in zip(
        world["dwellings"], (choices.ReplyAnswer.REFUSED, choices.ReplyAnswer.ACCEPTED), strict=True
    ):
        case = services.proposal_make(
            actor=landlord,
            case=case,
            values={
                "dwelling": dwelling,
                "notified_on": date(2026, 11, 2),
                "match_override_reason": "Choix confirmé avec le ménage.",
                "fewer_candidates_reason": choices.FewerCandidatesReason.TOO_FEW,
                "fewer_candidates_detail": "Un seul candidat.",
            },
        )
        case = services.caleol_record(
            actor=landlord,
            case=case,
            values={"decision": choices.CaleolDecisionType.ALLOCATED, "decided_on": date(2026, 11, 10)},
        )
        reply = {"answer": answer, "replied_on": date(2026, 11, 15)}
        if answer == choices.ReplyAnswer.REFUSED:
            reply["refusal_motive"] = choices.RefusalMotive.LOCATION
        case = services.reply_record(actor=landlord, case=case, values=reply)
    return services.lease_record(actor=landlord, case=case, signed_on=date(2026, 11, 20))
