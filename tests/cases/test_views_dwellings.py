"""The landlord's dwelling pages: a dwelling through three candidates; scope; the refusal report."""

from datetime import date

import pytest
from django.urls import reverse

from cases import choices
from cases.models import Case, Dwelling, DwellingOffer, HouseholdReply, Proposal
from tests.factories import DwellingFactory, member
from tests.workflows import steps
from workflows import services

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.cases.urls_with_stubs")]


def login(client, user):
    user.save()  # the factory sets the password without saving it: the session hash must match the row
    client.force_login(user)


def labelled(world, n=3):
    return [steps.label(world, steps.diagnose(world, world.flag())) for _ in range(n)]


def act(client, dwelling, proposal, action, data):
    prefix = f"{action}-{proposal.pk}"
    return client.post(
        reverse("dwellings:action", args=[dwelling.pk, proposal.pk, action]),
        {f"{prefix}-{k}": v for k, v in data.items()},
    )


def test_landlord_takes_a_dwelling_through_three_candidates(world, client):
    cases = labelled(world)
    login(client, world.landlord_agent)
    assert client.get(reverse("dwellings:list")).status_code == 200
    response = client.post(
        reverse("dwellings:create"),
        {"landlord": world.landlord.pk, "address": "5 rue des Tilleuls", "commune": "83137", "typology": "T3",
         "surface_m2": "65", "floor": "1", "has_lift": "on", "financing": "PLUS", "rent": "400", "charges": "60",
         "available_from": "2026-12-01"},
    )  # fmt: skip
    dwelling = Dwelling.objects.get(address="5 rue des Tilleuls")
    assert response.status_code == 302 and dwelling.landlord == world.landlord
    page = client.get(reverse("dwellings:detail", args=[dwelling.pk]))
    assert page.status_code == 200
    assert cases[0].reference.encode() in page.content  # the candidate list offers labelled cases

    # The match check warns (one person in a T3) before saving; the landlord goes on with a reason.
    refused = client.post(reverse("dwellings:propose", args=[dwelling.pk]), {"case": cases[0].pk, "estimated_apl": "0"})
    assert refused.status_code == 400
    assert "peu adaptée" in refused.content.decode() and not Proposal.objects.exists()
    for case in cases:
        response = client.post(
            reverse("dwellings:propose", args=[dwelling.pk]),
            {"case": case.pk, "estimated_apl": "0", "match_override_reason": "Ménage d'accord après visite."},
        )
        assert response.status_code == 302, response.content.decode()
    offer = DwellingOffer.objects.get(dwelling=dwelling)
    proposals = list(offer.proposals.order_by("created_at"))
    for rank, proposal in enumerate(proposals, start=1):
        response = act(client, dwelling, proposal, "caleol",
                       {"decision": "allocated_ranked", "rank": rank, "decided_on": "2026-11-10"})  # fmt: skip
        assert response.status_code == 302, response.content.decode()
    first, second, third = proposals

    page = client.get(reverse("dwellings:detail", args=[dwelling.pk])).content.decode()
    assert "Logement proposé à ce ménage" in page
    assert act(client, dwelling, first, "notify", {"notified_on": "2026-11-12"}).status_code == 302
    bad = act(client, dwelling, first, "reply", {"answer": "refused", "replied_on": "2026-11-18"})
    assert bad.status_code == 400 and "Indiquez le motif du refus" in bad.content.decode()
    act(client, dwelling, first, "reply", {"answer": "refused", "refusal_motive": "rent", "replied_on": "2026-11-18"})
    assert Case.objects.get(pk=first.case_id).refusal_count == 1

    # Rank 2 now holds the dwelling.
    response = act(client, dwelling, second, "notify",
                   {"notified_on": "2026-11-19", "registered_letter": "on", "delivered_on": "2026-11-20"})  # fmt: skip
    assert response.status_code == 302
    assert Proposal.objects.get(pk=second.pk).reply_deadline == date(2026, 11, 30)
    act(client, dwelling, second, "reply", {"answer": "accepted", "replied_on": "2026-11-22"})
    assert act(client, dwelling, second, "lease", {"signed_on": "2026-12-01"}).status_code == 302
    assert Case.objects.get(pk=second.case_id).closure_reason == "rehoused_social"
    assert HouseholdReply.objects.get(proposal=third).answer == choices.ReplyAnswer.LAPSED
    assert DwellingOffer.objects.get(pk=offer.pk).status == choices.OfferStatus.LET


def test_other_landlord_and_other_roles_get_404(world, client):
    (case,) = labelled(world, 1)
    login(client, world.other_landlord_agent)
    assert client.get(reverse("dwellings:detail", args=[world.dwelling.pk])).status_code == 404
    response = client.post(reverse("dwellings:propose", args=[world.dwelling.pk]), {"case": case.pk})
    assert response.status_code == 404
    assert not Proposal.objects.exists()
    # Its own dwelling, but the case is not designated to it: not in the list of candidates.
    own = DwellingFactory(landlord=world.other_landlord)
    response = client.post(
        reverse("dwellings:propose", args=[own.pk]),
        {"case": case.pk, "estimated_apl": "0", "match_override_reason": "x"},
    )
    assert response.status_code == 400 and not Proposal.objects.exists()
    login(client, world.social_worker)
    assert client.get(reverse("dwellings:list")).status_code == 404
    assert client.get(reverse("dwellings:create")).status_code == 404
    assert client.get(reverse("dwellings:detail", args=[world.dwelling.pk])).status_code == 404
    assert client.get(reverse("dwellings:refusals")).status_code == 404
    client.logout()
    assert client.get(reverse("dwellings:list")).status_code == 302  # to the login page


def refuse_many(world, n, motive="rent", dwelling=None):
    for case in labelled(world, n):
        steps.refuse(
            world, steps.allocate(world, steps.propose(world, case, dwelling or world.dwelling)), motive=motive
        )


def test_refusal_report_masks_small_cells_and_keeps_to_scope(world, client):
    refuse_many(world, 5, "rent")
    refuse_many(world, 2, "location")
    other_dwelling = DwellingFactory(landlord=world.other_landlord)
    agent = world.other_landlord_agent
    for _ in range(5):
        case = steps.diagnose(world, world.flag())
        steps.decide(
            world, case, {"outcome": "labelled", "orientation": "ordinary", "designated_landlord": world.other_landlord}
        )
        services.proposal_make(
            actor=agent,
            case=case,
            values={"dwelling": other_dwelling, "notified_on": date(2026, 11, 2), "match_override_reason": "x",
                    "fewer_candidates_reason": "too_few", "fewer_candidates_detail": "y"},
        )  # fmt: skip
        services.caleol_record(
            actor=agent, case=case, values={"decision": "allocated", "decided_on": date(2026, 11, 3)}
        )
        services.reply_record(
            actor=agent,
            case=case,
            values={"answer": "refused", "refusal_motive": "size", "replied_on": date(2026, 11, 4)},
        )
    login(client, world.landlord_agent)
    page = client.get(reverse("dwellings:refusals")).content.decode()
    assert "Bailleur Un (test)" in page and "Bailleur Deux" not in page
    assert "<td>5</td>" in page and "<td>7</td>" in page  # rent: 5 shown; location: 2 masked
    assert page.count("&lt; 5") >= 2
    by_qpv = client.get(reverse("dwellings:refusals"), {"par": "qpv"}).content.decode()
    assert "Hors QPV" in by_qpv
    # The commission member sees its territory (Toulon): both landlords' dwellings.
    login(client, world.commission)
    by_landlord = client.get(reverse("dwellings:refusals")).content.decode()
    assert "Bailleur Un (test)" in by_landlord and "Bailleur Deux (test)" in by_landlord
    assert "<td>12</td>" in client.get(reverse("dwellings:refusals"), {"par": "commune"}).content.decode()
    territory = member("territory_admin", world.state, communes=["44109"])
    login(client, territory)
    assert "Aucun refus" in client.get(reverse("dwellings:refusals")).content.decode()
