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


def decide(client, world, case, data):
    """The committee decides through its pages: the secretary opens a written procedure, every voting
    member votes for the decision in `data`, the secretary records the outcome. Returns the last
    response (a redirect to the procedure page when the outcome was recorded)."""
    from committees.models import WrittenProcedure
    from committees.scripted import choice_for

    from . import steps

    committee = steps.committee(world, case)
    secretary = steps.secretary(world)
    client.force_login(secretary)
    response = client.post(
        reverse("committees:procedure_open", args=[committee.pk]), {"case": case.pk, "deadline": "2099-01-31"}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    procedure = WrittenProcedure.objects.get(case=case, status=WrittenProcedure.Status.OPEN)
    values = {k: v == "true" if k == "dalo_benefit_lost" else v for k, v in data.items()}
    for seat in committee.members.filter(has_vote=True, is_active=True):
        client.force_login(seat.user)
        vote = client.post(reverse("committees:procedure_vote", args=[procedure.pk]), {"choice": choice_for(values)})
        assert vote.status_code == 302, vote.content.decode()[:3000]
    client.force_login(secretary)
    return client.post(reverse("committees:procedure_decide", args=[procedure.pk]), data)


def assert_decided(response, case):
    """A recorded committee outcome answers a redirect to the written procedure's page."""
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"].startswith(reverse("committees:procedure", args=[case.written_procedures.get().pk]))


def label(client, world, case):
    data = {
        "outcome": choices.CommitteeOutcome.LABELLED,
        "orientation": choices.Orientation.ORDINARY,
        "designated_landlord": world.landlord.pk,
        "target_reservataire": world.reservataire.pk,
        "support_measure": choices.SupportMeasure.ASLL,
    }
    return decide(client, world, case, data)


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
