"""Two members recording the same decision at the same moment, in real concurrent transactions."""

import threading

import pytest
from django.db import connection, connections

from cases import choices
from cases.models import CommitteeReview
from committees import services
from committees.models import SessionDecision, VoteChoice
from workflows.services import StepConflict

from .conftest import LABELLED

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL for real row locks: set DATABASE_URL=postgres://… to run this test.")


def test_two_members_record_at_once_one_decision_one_clear_message(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    cw.vote_all(item, VoteChoice.LABELLED, [cw.chair, cw.secretary, cw.member])
    values = {**LABELLED, "designated_landlord": cw.world.landlord}

    barrier = threading.Barrier(2)
    results = {}

    def record(user):
        try:
            barrier.wait(timeout=10)
            services.decision_record(actor=type(user).objects.get(pk=user.pk), item=item, values=values)
            results[user.username] = "ok"
        except StepConflict as exc:
            results[user.username] = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[user.username] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=record, args=(u,)) for u in (cw.chair_user, cw.secretary_user)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results.values(), key=lambda v: v != "ok")[0] == "ok", results
    assert list(results.values()).count("ok") == 1, results
    other = next(v for v in results.values() if v != "ok")
    assert "déjà statué" in other, results
    assert SessionDecision.objects.count() == 1
    assert CommitteeReview.objects.filter(case=case).count() == 1
    case.refresh_from_db()
    assert case.status == choices.CaseStatus.PROPOSAL
