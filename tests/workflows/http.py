"""Driving the step pages through HTTP as each role would, with the Django test client."""

from django.urls import reverse

from cases import choices

DIAGNOSTIC = {
    "family_situation": "Parent isolé avec deux enfants.",
    "monthly_resources": "1400",
    "monthly_housing_cost": "0",
    "monthly_other_charges": "0",
    "debts_amount": "0",
    "support_needed": choices.SupportMeasure.ASLL,
    "urgency": choices.Urgency.HIGH,
    "social_narrative": "Récit détaillé de la situation (confidentiel).",
    "health_autonomy": "Asthme sévère d'un enfant (confidentiel).",
    "committee_synthesis": "Ménage hébergé, besoin d'un T3.",
    "recommended_typology": "T3",
}


def step_url(case, node):
    return reverse("workflows:step", args=[case.pk, node])


def post_step(client, user, case, node, data):
    client.force_login(user)
    return client.post(step_url(case, node), data)


def diagnose(client, world, case, **extra):
    return post_step(client, world.social_worker, case, "diagnostic", DIAGNOSTIC | extra)


def label(client, world, case):
    data = {
        "outcome": choices.CommitteeOutcome.LABELLED,
        "orientation": choices.Orientation.ORDINARY,
        "designated_landlord": world.landlord.pk,
        "target_reservataire": world.reservataire.pk,
        "support_measure": choices.SupportMeasure.ASLL,
    }
    return post_step(client, world.commission, case, "committee", data)


def propose(client, world, case, dwelling=None, **extra):
    data = {
        "dwelling": (dwelling or world.dwelling).pk,
        "notified_on": "2026-11-02",
        "estimated_apl": "0",
        "match_override_reason": "Choix confirmé avec le ménage.",
        "fewer_candidates_reason": "too_few",
        "fewer_candidates_detail": "Seul ménage prioritaire pour ce logement.",
    } | extra
    return post_step(client, world.landlord_agent, case, "proposal", data)


def caleol(client, world, case, **extra):
    data = {"decision": choices.CaleolDecisionType.ALLOCATED, "decided_on": "2026-11-10"} | extra
    return post_step(client, world.landlord_agent, case, "caleol", data)


def reply(client, world, case, answer=choices.ReplyAnswer.ACCEPTED, **extra):
    data = {"answer": answer, "replied_on": "2026-11-15", "legitimate": "unknown"} | extra
    return post_step(client, world.landlord_agent, case, "reply", data)


def sign(client, world, case, signed_on="2026-11-20"):
    return post_step(client, world.landlord_agent, case, "lease", {"signed_on": signed_on})


def assert_done(response, case):
    """A successful step answers a redirect to the case page."""
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
