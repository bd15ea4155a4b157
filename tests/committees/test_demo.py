from io import StringIO

import pytest
from django.core.management import call_command

from committees.models import Committee
from permissions.policy import Action, policy
from tests.workflows import steps

pytestmark = pytest.mark.django_db


def test_demo_committee_with_a_planned_session_and_agenda(world):
    waiting = steps.diagnose(world, world.flag())
    out = StringIO()
    call_command("load_committee_demo", stdout=out)
    call_command("load_committee_demo", stdout=out)  # twice: nothing duplicated
    committee = Committee.objects.get()
    assert committee.members.count() == 5
    session = committee.sessions.get()
    assert session.status == "planned"
    assert list(session.items.values_list("case_id", flat=True)) == [waiting.pk]
    chair = committee.members.get(function="chair").user
    assert policy.can(chair, Action.VIEW, waiting) and chair.has_perm("cases.review_in_committee", waiting)
    assert "secretariat.ddets" in out.getvalue()
