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


def label(world, case):
    return services.committee_decide(
        actor=world.commission,
        case=case,
        values={
            "outcome": choices.CommitteeOutcome.LABELLED,
            "orientation": choices.Orientation.ORDINARY,
            "designated_landlord": world.landlord,
            "target_reservataire": world.reservataire,
            "support_measure": choices.SupportMeasure.ASLL,
        },
    )


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
