"""Done-when of the proposals issue, on the demo data: bailleur.hem takes one vacant dwelling through
three candidates in the pages (rank 1 refuses, rank 2 accepts) and the other through the API."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.http import HttpRequest  # django-axes checks the login against its request
from django.urls import reverse
from rest_framework.test import APIClient

from cases import choices
from cases.models import Case, Dwelling, DwellingOffer
from demo.management.commands.load_demo import DEMO_API_TOKEN
from permissions.policy import policy

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.cases.urls_with_stubs")]


def waiting(user):
    qs = policy.queryset_for(user).filter(
        status=choices.CaseStatus.PROPOSAL, designated_landlord__name__startswith="Habitat"
    )
    return list(qs.filter(refusal_count=0, is_dalo=False).order_by("pk"))


def test_demo_dwelling_through_three_candidates_in_ui_and_api(client):
    call_command("load_demo", stdout=StringIO())
    from django.contrib.auth import get_user_model

    agent = get_user_model().objects.get(username="bailleur.hem")
    client.login(request=HttpRequest(), username="bailleur.hem", password="demo-ppgdid-2026")
    ui_dwelling, api_dwelling = Dwelling.objects.get(rpls_id="DEMOVAC1"), Dwelling.objects.get(rpls_id="DEMOVAC2")
    candidates = waiting(agent)
    assert len(candidates) >= 6

    # Through the pages.
    for case in candidates[:3]:
        response = client.post(
            reverse("dwellings:propose", args=[ui_dwelling.pk]),
            {"case": case.pk, "estimated_apl": "120", "match_override_reason": "Vu avec le ménage."},
        )
        assert response.status_code == 302, response.content.decode().split("<h2>Proposer")[1][:1500]
    proposals = list(DwellingOffer.objects.get(dwelling=ui_dwelling).proposals.order_by("created_at"))

    def act(proposal, action, **data):
        url = reverse("dwellings:action", args=[ui_dwelling.pk, proposal.pk, action])
        response = client.post(url, {f"{action}-{proposal.pk}-{k}": v for k, v in data.items()})
        assert response.status_code == 302, response.content.decode()[:3000]

    for rank, proposal in enumerate(proposals, start=1):
        act(proposal, "caleol", decision="allocated_ranked", rank=rank, decided_on="2026-01-05")
    act(proposals[0], "notify", notified_on="2026-01-06")
    act(proposals[0], "reply", answer="refused", refusal_motive="location", replied_on="2026-01-10")
    act(proposals[1], "notify", notified_on="2026-01-11")
    act(proposals[1], "reply", answer="accepted", replied_on="2026-01-12")
    act(proposals[1], "lease", signed_on="2026-01-20")
    statuses = [Case.objects.get(pk=p.case_id) for p in proposals]
    assert [(c.status, c.refusal_count) for c in statuses] == [("proposal", 1), ("closed", 0), ("proposal", 0)]

    # Through the API, with the demo token.
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {DEMO_API_TOKEN}")
    listed = {c["id"] for c in http.get("/api/v1/cases/", {"status": "proposal", "page_size": 100}).json()["results"]}
    api_cases = [c for c in waiting(agent) if c.pk in listed][:3]
    assert len(api_cases) == 3
    n = 0

    def post(case, path, body):
        nonlocal n
        n += 1
        response = http.post(
            f"/api/v1/cases/{case.pk}/{path}/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"demo-test-{n:04d}"
        )
        assert response.status_code == 201, response.json()
        return response.json()

    for case in api_cases:
        post(case, "proposal", {"dwelling": api_dwelling.pk, "estimated_apl": "120", "match_override_reason": "Vu."})
    for rank, case in enumerate(api_cases, start=1):
        post(case, "caleol-decision", {"decision": "allocated_ranked", "rank": rank, "decided_on": "2026-01-05"})
    post(api_cases[0], "notification", {"notified_on": "2026-01-06"})
    assert (
        post(api_cases[0], "reply", {"answer": "refused", "refusal_motive": "rent", "replied_on": "2026-01-10"})[
            "refusal_count"
        ]
        == 1
    )
    post(api_cases[1], "notification", {"notified_on": "2026-01-11"})
    post(api_cases[1], "reply", {"answer": "accepted", "replied_on": "2026-01-12"})
    assert post(api_cases[1], "lease", {"signed_on": "2026-01-20"})["status"] == "closed"
    assert Case.objects.get(pk=api_cases[2].pk).status == "proposal"
