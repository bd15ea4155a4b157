"""Two identical POSTs racing with the same Idempotency-Key: one write, the same answer twice."""

import json
import threading

import pytest
from django.db import connection, connections

from cases.models import Proposal
from tests.workflows import steps

from .conftest import Partner

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_racing_retries_write_once(world):
    partner = Partner(world.landlord)
    case = steps.label(world, steps.diagnose(world, world.flag()))
    body = {
        "dwelling": world.dwelling.pk,
        "match_override_reason": "Vu avec le ménage.",
        "fewer_candidates_reason": "too_few",
        "fewer_candidates_detail": "Un seul candidat.",
    }
    barrier = threading.Barrier(4)
    answers = []

    def post():
        try:
            barrier.wait()
            response = partner.http.post(
                f"/api/v1/cases/{case.pk}/proposal/", body, format="json", HTTP_IDEMPOTENCY_KEY="race-key-0001"
            )
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert Proposal.objects.filter(case=case).count() == 1
    assert {status for status, _body in answers} == {201}
    assert len({json.dumps(body, sort_keys=True) for _status, body in answers}) == 1  # the stored answer
