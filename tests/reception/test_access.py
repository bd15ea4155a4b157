"""Access of the two people the global matrix (tests/security/access_matrix.csv) has no column for:
the network head, and a household signed in to its own view. Every reception URL, own and foreign."""

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from reception import services
from reception.models import ScriptEntry, ScriptVersion
from tests.factories import TOULON

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(net):
    world = net.world
    own_case, other_case = world.flag(), world.flag()
    own_access, code = services.access_issue(
        actor=world.social_worker, case=own_case, holder="", channel="email", destination="a@example.org"
    )
    other_access, _code = services.access_issue(
        actor=world.social_worker, case=other_case, holder="", channel="email", destination="b@example.org"
    )
    draft = ScriptVersion.objects.create(network=net.network, created_by=net.head)
    foreign_draft = ScriptVersion.objects.create(network=net.foreign_network, created_by=net.foreign_head)
    return {
        "net": net,
        "code": code,
        "own_case": own_case,
        "other_case": other_case,
        "own_access": own_access,
        "other_access": other_access,
        "entry": ScriptEntry.objects.create(version=draft, topic="apply", title="A", body="B"),
        "foreign_entry": ScriptEntry.objects.create(version=foreign_draft, topic="apply", title="A", body="B"),
    }


def urls(o):
    """(name, kwargs, method, network head's status, signed-in household's status)."""
    net = o["net"]
    return [
        ("reception:index", {}, "GET", 200, 200),
        ("reception:desks", {}, "GET", 200, 200),
        ("reception:communes", {}, "GET", 200, 200),
        ("reception:commune", {"code": TOULON}, "GET", 200, 200),
        ("reception:information", {}, "GET", 200, 200),
        ("reception:desk_manage", {}, "GET", 200, 302),
        ("reception:desk_create", {}, "GET", 200, 302),
        ("reception:desk_edit", {"pk": net.desk.pk}, "GET", 200, 302),
        ("reception:desk_edit", {"pk": net.foreign_desk.pk}, "GET", 404, 302),
        ("reception:script", {}, "GET", 200, 302),
        ("reception:script_draft", {}, "GET", 200, 302),
        ("reception:script_entry", {"pk": o["entry"].pk}, "GET", 200, 302),
        ("reception:script_entry", {"pk": o["foreign_entry"].pk}, "GET", 404, 302),
        ("reception:orientation", {}, "GET", 403, 302),
        ("reception:contact_create", {}, "GET", 403, 302),
        ("reception:stats", {}, "GET", 200, 302),
        ("reception:stats_csv", {}, "GET", 200, 302),
        ("reception:stats_xlsx", {}, "GET", 200, 302),
        ("reception:preflags", {}, "GET", 403, 302),
        ("reception:household_access", {"case_pk": o["own_case"].pk}, "GET", 404, 302),
        ("reception:household_access_revoke", {"pk": o["own_access"].pk}, "POST", 404, 302),
        ("mon_dossier:sign_in", {}, "GET", 200, 302),  # a signed-in household goes to its file
        ("mon_dossier:status", {"reference": o["own_case"].reference}, "GET", 404, 200),
        ("mon_dossier:status", {"reference": o["other_case"].reference}, "GET", 404, 404),
    ]


def test_network_head(client, objects):
    client.force_login(objects["net"].head)
    got = [
        (name, kwargs, client.generic(method, reverse(name, kwargs=kwargs)).status_code, head)
        for name, kwargs, method, head, _household in urls(objects)
    ]
    assert [g for g in got if g[2] != g[3]] == []


def test_signed_in_household(client, objects):
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            reverse("mon_dossier:sign_in"), {"reference": objects["own_case"].reference, "code": objects["code"]}
        )
    code = next(word for word in mail.outbox[0].body.split() if word.rstrip(".").isdigit())
    client.post(reverse("mon_dossier:one_time_code"), {"code": code.rstrip(".")})
    got = [
        (name, kwargs, client.generic(method, reverse(name, kwargs=kwargs)).status_code, household)
        for name, kwargs, method, _head, household in urls(objects)
    ]
    assert [g for g in got if g[2] != g[3]] == []
