"""Partner API: scope, idempotency, validation errors, the three-candidate round through HTTP."""

from datetime import date

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from api.models import ApiClient
from api.services import api_client_revoke
from cases.models import CaleolDecision, Case, Dwelling, HouseholdReply, Proposal
from tests.factories import UserFactory
from tests.workflows import steps

pytestmark = pytest.mark.django_db

OVERRIDE = "Vu avec le ménage."


def labelled(world, n=1, **kwargs):
    return [steps.label(world, steps.diagnose(world, world.flag(**kwargs))) for _ in range(n)]


def propose(partner, case, dwelling, **extra):
    return partner.post(
        f"cases/{case.pk}/proposal/", {"dwelling": dwelling.pk, "match_override_reason": OVERRIDE} | extra
    )


def test_full_round_rank_one_refuses_rank_two_accepts(world, partner):
    cases = labelled(world, 3)
    listed = partner.get("cases/", status="proposal").json()
    assert listed["count"] == 3 and {c["id"] for c in listed["results"]} == {c.pk for c in cases}

    created = partner.post(
        "dwellings/",
        {
            "address": "3 rue du Port",
            "commune": "83137",
            "typology": "T3",
            "surface_m2": "66.5",
            "floor": 1,
            "has_lift": True,
            "rent": "410.00",
            "charges": "70.00",
            "available_from": "2026-12-01",
        },
    )
    assert created.status_code == 201, created.json()
    dwelling = Dwelling.objects.get(pk=created.json()["id"])
    assert dwelling.landlord == world.landlord

    warnings = partner.get(f"cases/{cases[0].pk}/match/", dwelling=dwelling.pk).json()["warnings"]
    assert [w["code"] for w in warnings] == ["typology"]  # one person in a T3

    for case in cases:
        response = propose(partner, case, dwelling)
        assert response.status_code == 201, response.json()
        assert response.json()["status"] == "caleol"
    for rank, case in enumerate(cases, start=1):
        response = partner.post(
            f"cases/{case.pk}/caleol-decision/",
            {"decision": "allocated_ranked", "rank": rank, "decided_on": "2026-11-10"},
        )
        assert response.status_code == 201, response.json()
    first, second, third = cases

    early = partner.post(f"cases/{second.pk}/reply/", {"answer": "accepted", "replied_on": "2026-11-20"})
    assert early.status_code == 400
    assert "mieux classé" in early.json()["errors"]["answer"][0]

    assert partner.post(f"cases/{first.pk}/notification/", {"notified_on": "2026-11-12"}).status_code == 201
    refused = partner.post(
        f"cases/{first.pk}/reply/", {"answer": "refused", "refusal_motive": "rent", "replied_on": "2026-11-18"}
    )
    assert refused.json()["status"] == "proposal" and refused.json()["refusal_count"] == 1

    notified = partner.post(
        f"cases/{second.pk}/notification/",
        {"notified_on": "2026-11-19", "registered_letter": True, "delivered_on": "2026-11-21"},
    )
    assert notified.json()["proposal"]["reply_deadline"] == "2026-12-01"
    assert notified.json()["proposal"]["holds_dwelling"] is True
    accepted = partner.post(f"cases/{second.pk}/reply/", {"answer": "accepted", "replied_on": "2026-11-25"})
    assert accepted.json()["status"] == "lease"
    lease = partner.post(f"cases/{second.pk}/lease/", {"signed_on": "2026-12-02"})
    assert lease.status_code == 201 and lease.json()["status"] == "closed"

    assert Case.objects.get(pk=third.pk).status == "proposal"
    assert HouseholdReply.objects.get(proposal__case=third).answer == "lapsed"
    detail = partner.get(f"dwellings/{dwelling.pk}/").json()
    assert detail["open_offer"] is None  # let


def test_scope_other_landlord_gets_404_everywhere(world, partner, other_partner):
    (case,) = labelled(world)
    assert other_partner.get(f"cases/{case.pk}/").status_code == 404
    assert other_partner.get("cases/").json()["count"] == 0
    for path, body in [
        ("proposal", {"dwelling": world.dwelling.pk}),
        ("caleol-decision", {"decision": "allocated", "decided_on": "2026-11-10"}),
        ("notification", {"notified_on": "2026-11-10"}),
        ("condition-met", {"received_on": "2026-11-10"}),
        ("reply", {"answer": "accepted", "replied_on": "2026-11-10"}),
        ("lease", {"signed_on": "2026-11-10"}),
    ]:
        response = other_partner.post(f"cases/{case.pk}/{path}/", body)
        assert response.status_code == 404, path
        assert response.json()["detail"] == "Dossier introuvable."
    assert other_partner.get(f"cases/{case.pk}/match/", dwelling=world.dwelling.pk).status_code == 404
    assert other_partner.get(f"dwellings/{world.dwelling.pk}/").status_code == 404
    # Its own dwelling offered to a case not designated to it: still 404 (scope first).
    assert other_partner.post(f"cases/{case.pk}/proposal/", {"dwelling": world.dwelling.pk}).status_code == 404
    assert not Proposal.objects.exists()


def test_token_required_valid_and_revocable(world, partner):
    anonymous = APIClient().get("/api/v1/cases/")
    assert anonymous.status_code == 401 and "authentification" in anonymous.json()["detail"]
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer nope")
    assert bad.get("/api/v1/cases/").json()["detail"] == "Jeton invalide ou révoqué."
    # A logged-in staff session is not an API client.
    session = APIClient()
    session.force_login(world.landlord_agent)
    assert session.get("/api/v1/cases/").status_code in (401, 403)
    assert partner.get("cases/").status_code == 200
    api_client_revoke(actor=UserFactory(is_superuser=True), client=partner.client_row)
    assert partner.get("cases/").status_code == 401


def test_command_creates_and_revokes_one_client_per_organisation(world, capsys):
    call_command("api_client", "create", world.landlord.name)
    token = capsys.readouterr().out.strip().splitlines()[-1]
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert http.get("/api/v1/cases/").status_code == 200
    assert not ApiClient.objects.filter(token_hash__contains=token).exists()  # only the hash is stored
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("api_client", "create", world.landlord.name)
    with pytest.raises(CommandError):
        call_command("api_client", "create", world.ccas.name)  # not a landlord
    call_command("api_client", "revoke", world.landlord.name)
    assert http.get("/api/v1/cases/").status_code == 401


def test_idempotent_post_does_nothing_twice(world, partner):
    (case,) = labelled(world)
    body = {
        "dwelling": world.dwelling.pk,
        "match_override_reason": OVERRIDE,
        "fewer_candidates_reason": "too_few",
        "fewer_candidates_detail": "Un seul candidat.",
    }
    first = partner.post(f"cases/{case.pk}/proposal/", body, key="retry-0001")
    again = partner.post(f"cases/{case.pk}/proposal/", body, key="retry-0001")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Proposal.objects.count() == 1
    other = partner.post(f"cases/{case.pk}/proposal/", body | {"estimated_apl": "50"}, key="retry-0001")
    assert other.status_code == 422
    # A new key on a step already done is a conflict, not a second proposal.
    conflict = partner.post(f"cases/{case.pk}/proposal/", body, key="retry-0002")
    assert conflict.status_code == 409
    assert Proposal.objects.count() == 1

    decision = {"decision": "allocated", "decided_on": "2026-11-10"}
    assert partner.post(f"cases/{case.pk}/caleol-decision/", decision, key="caleol-0001").status_code == 201
    assert partner.post(f"cases/{case.pk}/caleol-decision/", decision, key="caleol-0001").status_code == 201
    assert CaleolDecision.objects.count() == 1


def test_failed_post_is_not_stored_and_can_be_retried(world, partner):
    (case,) = labelled(world)
    body = {"dwelling": world.dwelling.pk, "fewer_candidates_reason": "too_few", "fewer_candidates_detail": "Seul."}
    refused = partner.post(f"cases/{case.pk}/proposal/", body, key="fix-and-retry")
    assert refused.status_code == 400 and "match_override_reason" in refused.json()["errors"]
    fixed = partner.post(f"cases/{case.pk}/proposal/", body | {"match_override_reason": OVERRIDE}, key="fix-and-retry")
    assert fixed.status_code == 201


@pytest.mark.parametrize(
    "key",
    [None, "short", "x" * 101, "clé-accentuée-1234", "with space 1234"],
    ids=["missing", "short", "long", "accent", "space"],
)
def test_idempotency_key_is_required_and_checked(world, partner, key):
    (case,) = labelled(world)
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    response = partner.http.post(
        f"/api/v1/cases/{case.pk}/proposal/", {"dwelling": world.dwelling.pk}, format="json", **headers
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


# Each bad input: (step to reach first, endpoint, body, field expected in the errors).
BAD_PROPOSALS = [
    ({}, "dwelling"),
    ({"dwelling": "abc"}, "dwelling"),
    ({"dwelling": 0}, "dwelling"),
    ({"dwelling": 999999}, "dwelling"),
    ({"dwelling": "OTHER"}, "dwelling"),
    ({"dwelling": "OWN", "estimated_apl": "-3"}, "estimated_apl"),
    ({"dwelling": "OWN", "notified_on": "31/12/2026"}, "notified_on"),
    ({"dwelling": "OWN", "notified_on": "9999-12-31"}, "notified_on"),
    ({"dwelling": "OWN", "notified_on": "2026-11-02", "reply_deadline": "2026-11-05"}, "reply_deadline"),
    ({"dwelling": "OWN", "delivered_on": "2026-11-05"}, "delivered_on"),
    ({"dwelling": "OWN", "fewer_candidates_reason": "because"}, "fewer_candidates_reason"),
    ({"dwelling": "OWN", "fewer_candidates_reason": "too_few"}, "fewer_candidates_detail"),
    ({"dwelling": "OWN"}, "match_override_reason"),
]


@pytest.mark.parametrize("body, field", BAD_PROPOSALS)
def test_proposal_validation_errors(world, partner, body, field):
    (case,) = labelled(world)
    other_dwelling = Dwelling.objects.create(
        landlord=world.other_landlord,
        address="x",
        commune=world.dwelling.commune,
        typology="T2",
        surface_m2=40,
        rent=300,
        charges=50,
        available_from=date(2026, 12, 1),
    )
    body = dict(body)
    body["dwelling"] = {"OWN": world.dwelling.pk, "OTHER": other_dwelling.pk}.get(
        body.get("dwelling"), body.get("dwelling")
    )
    if body["dwelling"] is None:
        del body["dwelling"]
    response = partner.post(f"cases/{case.pk}/proposal/", body)
    assert response.status_code == 400, response.json()
    data = response.json()
    assert data["detail"].startswith("Données invalides")
    assert field in data["errors"], data
    assert all(isinstance(m, str) and m for m in data["errors"][field])
    assert not Proposal.objects.exists()


def test_dalo_offer_without_prior_notice_is_refused(world, partner):
    (case,) = labelled(world, is_dalo=True)
    response = propose(partner, case, world.dwelling)
    assert "dalo_notice_given_at" in response.json()["errors"]
    ok = propose(
        partner,
        case,
        world.dwelling,
        dalo_notice_given_at="2026-11-01T10:00:00+01:00",
        fewer_candidates_reason="dalo_prefet",
    )
    assert ok.status_code == 201


def at_caleol(world, partner, n=1):
    cases = labelled(world, n)
    for case in cases:
        propose(partner, case, world.dwelling, fewer_candidates_reason="too_few", fewer_candidates_detail="Peu.")
    return cases


BAD_CALEOL = [
    ({}, "decision"),
    ({"decision": "maybe", "decided_on": "2026-11-10"}, "decision"),
    ({"decision": "allocated"}, "decided_on"),
    ({"decision": "allocated_ranked", "decided_on": "2026-11-10"}, "rank"),
    ({"decision": "allocated_ranked", "rank": 0, "decided_on": "2026-11-10"}, "rank"),
    ({"decision": "allocated", "rank": 2, "decided_on": "2026-11-10"}, "rank"),
    ({"decision": "suspensive_condition", "decided_on": "2026-11-10"}, "missing_document"),
    (
        {
            "decision": "suspensive_condition",
            "missing_document": "RIB",
            "condition_deadline": "2026-11-01",
            "decided_on": "2026-11-10",
        },
        "condition_deadline",
    ),
    ({"decision": "not_allocated", "decided_on": "2026-11-10"}, "non_allocation_reason"),
    ({"decision": "not_allocated", "non_allocation_reason": "other", "decided_on": "2026-11-10"}, "reasons_detail"),
    ({"decision": "inadmissible", "decided_on": "2026-11-10"}, "inadmissibility_reason"),
    (
        {"decision": "not_allocated", "non_allocation_reason": "better_ranked", "rank": 2, "decided_on": "2026-11-10"},
        "rank",
    ),
]


@pytest.mark.parametrize("body, field", BAD_CALEOL)
def test_caleol_validation_errors(world, partner, body, field):
    (case,) = at_caleol(world, partner)
    response = partner.post(f"cases/{case.pk}/caleol-decision/", body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not CaleolDecision.objects.exists()


def test_caleol_without_three_candidates_and_duplicate_rank(world, partner):
    cases = labelled(world, 2)
    for case in cases:
        propose(partner, case, world.dwelling)
    response = partner.post(
        f"cases/{cases[0].pk}/caleol-decision/", {"decision": "allocated", "decided_on": "2026-11-10"}
    )
    assert "fewer_candidates_reason" in response.json()["errors"]
    ok = partner.post(
        f"cases/{cases[0].pk}/caleol-decision/",
        {
            "decision": "allocated",
            "decided_on": "2026-11-10",
            "fewer_candidates_reason": "too_few",
            "fewer_candidates_detail": "Deux demandes.",
        },
    )
    assert ok.status_code == 201
    same = partner.post(
        f"cases/{cases[1].pk}/caleol-decision/", {"decision": "allocated_ranked", "rank": 1, "decided_on": "2026-11-10"}
    )
    assert "rank" in same.json()["errors"]


def allocated(world, partner):
    (case,) = at_caleol(world, partner)
    partner.post(f"cases/{case.pk}/caleol-decision/", {"decision": "allocated", "decided_on": "2026-11-10"})
    return case


BAD_NOTIFICATIONS = [
    ({}, "notified_on"),
    ({"notified_on": "2026-11-01"}, "notified_on"),
    ({"notified_on": "2026-11-12", "reply_deadline": "2026-11-15"}, "reply_deadline"),
    ({"notified_on": "2026-11-12", "registered_letter": True, "delivered_on": "2026-11-11"}, "delivered_on"),
    ({"notified_on": "2026-11-12", "delivered_on": "2026-11-13"}, "delivered_on"),
    ({"notified_on": "2026-11-12", "registered_letter": "peut-être"}, "registered_letter"),
]


@pytest.mark.parametrize("body, field", BAD_NOTIFICATIONS)
def test_notification_validation_errors(world, partner, body, field):
    case = allocated(world, partner)
    response = partner.post(f"cases/{case.pk}/notification/", body)
    assert response.status_code == 400 and field in response.json()["errors"], response.json()


BAD_REPLIES = [
    ({}, "answer"),
    ({"answer": "lapsed", "replied_on": "2026-11-20"}, "answer"),
    ({"answer": "refused", "replied_on": "2026-11-20"}, "refusal_motive"),
    ({"answer": "refused", "refusal_motive": "weather", "replied_on": "2026-11-20"}, "refusal_motive"),
    ({"answer": "accepted", "refusal_motive": "rent", "replied_on": "2026-11-20"}, "refusal_motive"),
    ({"answer": "accepted", "replied_on": "2026-11-01"}, "replied_on"),
    ({"answer": "no_reply", "replied_on": "2026-11-20"}, "answer"),
    ({"answer": "accepted"}, "replied_on"),
]


@pytest.mark.parametrize("body, field", BAD_REPLIES)
def test_reply_validation_errors(world, partner, body, field):
    case = allocated(world, partner)
    partner.post(f"cases/{case.pk}/notification/", {"notified_on": "2026-11-12"})
    response = partner.post(f"cases/{case.pk}/reply/", body)
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert not HouseholdReply.objects.exists()


def test_reply_before_notification_and_lease_checks(world, partner):
    case = allocated(world, partner)
    before = partner.post(f"cases/{case.pk}/reply/", {"answer": "accepted", "replied_on": "2026-11-20"})
    assert "notification" in before.json()["errors"]["answer"][0]
    early_lease = partner.post(f"cases/{case.pk}/lease/", {"signed_on": "2026-11-20"})
    assert early_lease.status_code == 409  # not at the lease step yet
    partner.post(f"cases/{case.pk}/notification/", {"notified_on": "2026-11-12"})
    partner.post(f"cases/{case.pk}/reply/", {"answer": "accepted", "replied_on": "2026-11-20"})
    assert "signed_on" in partner.post(f"cases/{case.pk}/lease/", {}).json()["errors"]
    assert "signed_on" in partner.post(f"cases/{case.pk}/lease/", {"signed_on": "2026-11-01"}).json()["errors"]
    cond = partner.post(f"cases/{case.pk}/condition-met/", {"received_on": "2026-11-20"})
    assert cond.status_code == 409


def test_malformed_json_and_wrong_types_are_json_400(world, partner):
    (case,) = labelled(world)
    response = partner.http.post(
        f"/api/v1/cases/{case.pk}/proposal/",
        "{not json",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="json-0001",
    )
    assert response.status_code == 400 and response.json()["detail"]
    response = partner.post(f"cases/{case.pk}/proposal/", ["a", "list"])
    assert response.status_code == 400
    assert partner.get("cases/", status="nowhere").status_code == 400
    assert partner.get("cases/", page=99).status_code == 404
    assert partner.get(f"cases/{case.pk}/match/").status_code == 400


def test_fields_follow_the_visibility_matrix(world, partner):
    (case,) = labelled(world, is_protected=True)
    data = partner.get(f"cases/{case.pk}/").json()
    household = data["household"]
    assert "nud" in household and "monthly_wages" in household
    assert "phone" not in household and "email" not in household  # protected case: contact hidden
    assert "address" not in household
    assert data["criteria"] == ["i"]
    text = str(data)
    assert "Récit détaillé" not in text and "Asthme" not in text and "Hébergé chez un ami" not in text
    assert set(data["needs"]) >= {"monthly_resources", "recommended_typology"}
    # Protected case: the lists of communes could locate the aggressor (issue 15).
    assert not {"areas_to_avoid", "recommended_communes"} & set(data["needs"])
    (plain,) = labelled(world)
    plain_data = partner.get(f"cases/{plain.pk}/").json()
    assert "phone" in plain_data["household"]
    assert {"areas_to_avoid", "recommended_communes"} <= set(plain_data["needs"])


def test_schema_and_offline_docs(world, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/cases/{id}/proposal/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"drf_spectacular_sidecar" in docs.content and b"cdn" not in docs.content.lower()
    assert client.get("/api/redoc/").status_code == 200
