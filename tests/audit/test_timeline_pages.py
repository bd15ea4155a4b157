"""The case timeline: newest first, a page at a time, filtered by kind and period (codes in the URL)."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cases.audit import acting_as
from tests.workflows import steps

from .conftest import login

pytestmark = pytest.mark.django_db


def url(case, query=""):
    return reverse("audit:timeline", args=[case.pk]) + query


def phone_changes(world, case, count):
    for n in range(count):
        with acting_as(world.social_worker, "Correction"):
            case.household.phone = f"06000{n:05d}"
            case.household.save()


def test_newest_first_and_paged_with_the_filters_kept(client, world):
    case = world.flag()
    phone_changes(world, case, 55)
    login(client, world.social_worker)
    page = client.get(url(case, "?kinds=change")).content.decode()
    assert page.index("0600000054") < page.index("0600000050")  # newest first
    assert "0600000000" not in page  # the oldest change is on page 2
    assert "Page 1 sur 2" in page
    assert 'href="?kinds=change&amp;page=2"' in page
    second = client.get(url(case, "?kinds=change&page=2")).content.decode()
    assert "0600000000" in second and "0600000054" not in second
    assert "Événements plus récents" in second


def test_period_filter_by_code(client, world):
    with time_machine.travel(timezone.now() - timedelta(days=60), tick=False):
        case = world.flag()
    steps.diagnose(world, case)
    login(client, world.social_worker)
    everything = client.get(url(case)).content.decode()
    assert "Signalement du ménage" in everything
    recent = client.get(url(case, "?periode=30j")).content.decode()
    assert "Signalement du ménage" not in recent
    assert "Diagnostic terminé" in recent
    assert client.get(url(case, "?periode=nimporte")).status_code == 200  # a bad code: a French message
    assert "Sélectionnez un choix valide" in client.get(url(case, "?periode=nimporte")).content.decode()


def test_people_are_named_never_by_login(client, world):
    case = world.flag()
    login(client, world.social_worker)
    page = client.get(url(case)).content.decode()
    assert world.social_worker.get_full_name() in page
    world.social_worker.first_name = world.social_worker.last_name = ""
    world.social_worker.save()
    page = client.get(url(case)).content.decode()
    assert f"Compte sans nom (n° {world.social_worker.pk})" in page
    assert f"par {world.social_worker.username}<" not in page
