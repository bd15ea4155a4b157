"""The case page (web.cases.views.CaseDetailView) logs the sensitive sections it shows and links the timeline."""

import pytest
from django.urls import reverse

from audit.models import AccessLog, Section
from tests.workflows import steps

from .conftest import login

pytestmark = pytest.mark.django_db


def sections(case, user):
    return sorted(AccessLog.objects.filter(case=case, user=user).values_list("section", flat=True))


def test_referent_opening_the_case_page_logs_health_and_narrative(client, world):
    case = steps.diagnose(world, world.flag())
    login(client, world.social_worker)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 200
    assert reverse("audit:timeline", args=[case.pk]) in response.content.decode()
    assert sections(case, world.social_worker) == sorted([Section.HEALTH, Section.NARRATIVE])


def test_landlord_page_logs_nothing_it_did_not_see_but_a_protected_case_is_always_logged(client, world):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    login(client, world.landlord_agent)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert sections(case, world.landlord_agent) == []

    protected = steps.label(world, steps.diagnose(world, world.flag(is_protected=True)))
    assert client.get(reverse("cases:detail", args=[protected.pk])).status_code == 200
    assert sections(protected, world.landlord_agent) == [Section.PROTECTED_CASE]


def test_no_log_outside_scope(client, world):
    case = steps.diagnose(world, world.flag())
    login(client, world.other_landlord_agent)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert AccessLog.objects.filter(case=case).count() == 0
