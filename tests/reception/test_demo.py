"""The reception demo data: idempotent, and it prints the logins and the household's access code."""

import io

import pytest

from reception.demo import DEMO_ACCESS_CODE, HEAD_USER, load_reception_demo
from reception.models import CommuneStock, Contact, Desk, HouseholdAccess, PreFlag, ScriptVersion

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Desk, ScriptVersion, CommuneStock, Contact, PreFlag, HouseholdAccess)]


def test_demo_is_idempotent_and_prints_its_logins(world):
    out = io.StringIO()
    first = load_reception_demo(out)
    assert first["network_head"] == HEAD_USER and first["code"] == DEMO_ACCESS_CODE
    loaded = counts()
    assert loaded[:4] == [3, 1, 48, 120]  # three desks (levels 1-3), one published script, the CSV, contacts
    assert {d.level for d in Desk.objects.all()} == {1, 2, 3}
    assert ScriptVersion.objects.get().entries.filter(is_public=False).exists()
    assert "tete.reseau" in out.getvalue()
    load_reception_demo(io.StringIO())
    assert counts() == loaded
