"""Step helpers driving the services as each role would."""

from datetime import UTC, date, datetime

from cases import choices
from workflows import services

DIAGNOSTIC = {
    "family_situation": "Parent isolé avec deux enfants.",
    "monthly_resources": 1400,
    "monthly_housing_cost": 0,
    "social_narrative": "Récit détaillé de la situation (confidentiel).",
    "committee_synthesis": "Ménage hébergé, besoin d'un T3.",
    "health_autonomy": "Asthme sévère d'un enfant.",
    "recommended_typology": "T3",
    "urgency": choices.Urgency.HIGH,
}


def diagnose(world, case):
    return services.diagnostic_complete(actor=world.social_worker, case=case, values=DIAGNOSTIC)


def committee(world, case):
    """The world's partner committee (built on first use), covering the case's commune: the world's
    commission member, a chair and a secretary, all voting; quorum 2."""
    from committees import services as committee_services
    from committees.models import Committee, CommitteeMember
    from tests.factories import UserFactory

    built = getattr(world, "_committee", None)
    if built is None:
        admin = UserFactory(username="admin-commission-test", is_superuser=True, is_staff=True)
        built = Committee.objects.create(name="Commission partenariale (test)", quorum_count=2)
        built.communes.set([case.household.commune])
        for user, function in (
            (world.commission, CommitteeMember.Function.MEMBER),
            (UserFactory(username="presidence-test"), CommitteeMember.Function.CHAIR),
            (UserFactory(username="secretariat-test"), CommitteeMember.Function.SECRETARY),
        ):
            committee_services.committee_member_add(
                actor=admin, committee=built, user=user, organisation=world.state, function=function
            )
        world._committee = built
    elif not built.communes.filter(pk=case.household.commune_id).exists():
        built.communes.add(case.household.commune)
        for seat in built.members.all():  # the seats' memberships (and step grants) follow the territory
            committee_services.committee_member_add(
                actor=UserFactory._meta.model.objects.get(username="admin-commission-test"),
                committee=built,
                user=seat.user,
                organisation=seat.organisation,
                function=seat.function,
            )
    return built


def secretary(world):
    return world._committee.members.get(function="secretary").user


def decide(world, case, values):
    """The committee decides by written procedure (every member votes for `values`); returns the case."""
    from committees.scripted import decide_in_writing

    procedure = decide_in_writing(committee=committee(world, case), case=case, values=values)
    return type(case).objects.get(pk=procedure.case_id)


LABELLED_VALUES = {
    "outcome": choices.CommitteeOutcome.LABELLED,
    "orientation": choices.Orientation.ORDINARY,
    "support_measure": choices.SupportMeasure.ASLL,
}


def label_values(world):
    return {**LABELLED_VALUES, "designated_landlord": world.landlord, "target_reservataire": world.reservataire}


def label(world, case):
    return decide(world, case, label_values(world))


def propose(world, case, dwelling=None, **extra):
    """A one-candidate round (exception recorded) whose offer is notified at once; the test households
    do not match the dwellings, so the landlord states why it goes on."""
    values = {
        "dwelling": dwelling or world.dwelling,
        "notified_on": date(2026, 11, 2),
        "match_override_reason": "Choix confirmé avec le ménage lors de la visite.",
        "fewer_candidates_reason": choices.FewerCandidatesReason.TOO_FEW,
        "fewer_candidates_detail": "Seul ménage prioritaire pour ce T3 ce mois-ci.",
    } | extra
    if case.is_dalo:
        values["dalo_notice_given_at"] = datetime(2026, 11, 1, 10, tzinfo=UTC)
    return services.proposal_make(actor=world.landlord_agent, case=case, values=values)


def allocate(world, case):
    return services.caleol_record(
        actor=world.landlord_agent,
        case=case,
        values={"decision": choices.CaleolDecisionType.ALLOCATED, "decided_on": date(2026, 11, 10)},
    )


def refuse(world, case, motive=choices.RefusalMotive.LOCATION):
    return services.reply_record(
        actor=world.landlord_agent,
        case=case,
        values={"answer": choices.ReplyAnswer.REFUSED, "refusal_motive": motive, "replied_on": date(2026, 11, 15)},
    )


def accept(world, case):
    return services.reply_record(
        actor=world.landlord_agent,
        case=case,
        values={"answer": choices.ReplyAnswer.ACCEPTED, "replied_on": date(2026, 11, 15)},
    )


def sign(world, case):
    return services.lease_record(actor=world.landlord_agent, case=case, signed_on=date(2026, 11, 20))
