import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from permissions.models import CaseShare, Membership
from permissions.roles import Role
from tests.factories import NANTES, TOULON, OrganisationFactory, UserFactory, member
from tests.workflows import steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(world):
    system = member(Role.SYSTEM_ADMIN, world.state, username="sysadmin")
    territory = member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON, "83126"], username="admin-toulon")
    return {"system": system, "territory": territory}


def login(client, user):
    # Reload: UserFactory sets a password it does not save, which would void the session hash.
    client.force_login(type(user).objects.get(pk=user.pk))
    return client


def test_membership_pages_refuse_non_administrators(client, world):
    assert client.get(reverse("permissions:membership_list")).status_code == 302  # to the login page
    login(client, world.supervisor)
    assert client.get(reverse("permissions:membership_list")).status_code == 403
    assert client.get(reverse("permissions:membership_create")).status_code == 403


def test_system_admin_creates_and_deactivates_a_membership_with_a_reason(client, world, admins):
    login(client, admins["system"])
    newcomer = UserFactory(username="nouvelle")
    page = client.get(reverse("permissions:membership_list"))
    assert page.status_code == 200 and "bailleur" in page.content.decode()
    response = client.post(
        reverse("permissions:membership_create"),
        {"user": newcomer.pk, "organisation": world.ccas.pk, "role": Role.SOCIAL_WORKER, "reason": "Arrivée le 1er"},
    )
    assert response.status_code == 302, response.content.decode()
    membership = Membership.objects.get(user=newcomer)
    assert membership.is_active
    assert newcomer.groups.filter(name=f"org{world.ccas.pk}:{Role.SOCIAL_WORKER}").exists()
    assert membership.history.first().history_change_reason == "Arrivée le 1er"
    assert membership.history.first().history_user == admins["system"]

    url = reverse("permissions:membership_deactivate", args=[membership.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "Ce champ est obligatoire" in response.content.decode()
    assert client.post(url, {"reason": "Départ de la structure"}).status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    assert not newcomer.groups.exists()
    assert membership.history.first().history_change_reason == "Départ de la structure"


def test_territory_admin_stays_inside_its_territory(client, world, admins):
    login(client, admins["territory"])
    newcomer = UserFactory()
    nantes_org = OrganisationFactory(covers=[NANTES])
    # An auditor role is for the system administrator only.
    response = client.post(
        reverse("permissions:membership_create"),
        {"user": newcomer.pk, "organisation": world.ccas.pk, "role": Role.AUDITOR, "reason": "Nomination DPO"},
    )
    assert response.status_code == 200 and "role" in response.context["form"].errors
    response = client.post(
        reverse("permissions:membership_create"),
        {"user": newcomer.pk, "organisation": nantes_org.pk, "role": Role.SOCIAL_WORKER, "reason": "Arrivée"},
    )
    assert "organisation" in response.context["form"].errors
    assert not Membership.objects.filter(user=newcomer).exists()
    response = client.post(
        reverse("permissions:membership_create"),
        {"user": newcomer.pk, "organisation": world.ccas.pk, "role": Role.SOCIAL_WORKER, "reason": "Arrivée"},
    )
    assert response.status_code == 302
    # A membership outside the territory is not found, and its existence is not confirmed.
    outsider = Membership.objects.get(user=member(Role.SOCIAL_WORKER, nantes_org))
    assert client.get(reverse("permissions:membership_deactivate", args=[outsider.pk])).status_code == 404
    # Nor may it change its own memberships.
    own = Membership.objects.get(user=admins["territory"])
    assert client.get(reverse("permissions:membership_deactivate", args=[own.pk])).status_code == 404
    listed = client.get(reverse("permissions:membership_list")).context["memberships"]
    assert outsider not in listed and own not in listed


def test_share_pages(client, world):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    url = reverse("permissions:case_shares", args=[case.pk])
    login(client, world.social_worker)
    ends = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = client.post(url, {"category": "debts", "organisation": world.landlord.pk, "ends_on": ends, "reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = client.post(
        url, {"category": "debts", "organisation": world.landlord.pk, "ends_on": ends, "reason": "Plan d'apurement"}
    )
    assert response.status_code == 302
    share = CaseShare.objects.get()
    login(client, world.landlord_agent)
    page = client.get(url)
    assert page.status_code == 200 and "Plan d&#x27;apurement" in page.content.decode()
    assert client.post(url, {"category": "health"}).status_code == 404  # a landlord never shares
    assert client.post(reverse("permissions:share_revoke", args=[share.pk]), {"reason": "X"}).status_code == 404
    login(client, world.other_landlord_agent)
    assert client.get(url).status_code == 404
    login(client, world.colleague)
    response = client.post(reverse("permissions:share_revoke", args=[share.pk]), {"reason": "Plus utile"})
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.revoked_by == world.colleague


def test_break_glass_page(client, world, caplog):
    case = world.flag(is_protected=True)
    url = reverse("permissions:break_glass", args=[case.pk])
    login(client, world.colleague)
    assert client.get(url).status_code == 404  # a social worker has no break-the-glass
    login(client, world.auditor)
    page = client.get(url)
    assert page.status_code == 200 and "12 rue Imaginaire" not in page.content.decode()
    response = client.post(url, {"reason": ""})
    assert "12 rue Imaginaire" not in response.content.decode()
    with caplog.at_level(logging.INFO):
        response = client.post(url, {"reason": "Contrôle à la demande de la CNIL"})
    assert "12 rue Imaginaire" in response.content.decode()
    assert any("break glass" in r.getMessage() for r in caplog.records)
    assert client.get(reverse("permissions:break_glass", args=[world.flag().pk])).status_code == 404


def test_protection_page(client, world):
    case = world.flag()
    url = reverse("permissions:case_protection", args=[case.pk])
    login(client, world.landlord_agent)
    assert client.get(url).status_code == 404
    login(client, world.social_worker)
    assert client.post(url, {"is_protected": "on", "reason": ""}).status_code == 200
    case.refresh_from_db()
    assert not case.is_protected
    assert client.post(url, {"is_protected": "on", "reason": "Victime de violences"}).status_code == 302
    case.refresh_from_db()
    assert case.is_protected


def test_request_id_is_echoed_or_generated_and_reaches_denial_logs(client, world, caplog):
    login(client, world.landlord_agent)
    case = world.flag()
    with caplog.at_level(logging.WARNING, logger="ppgdid.access"):
        response = client.get(
            reverse("permissions:case_shares", args=[case.pk]), headers={"X-Request-ID": "abcdef-123456"}
        )
    assert response.status_code == 404
    assert response["X-Request-ID"] == "abcdef-123456"
    denials = [r.getMessage() for r in caplog.records if r.name == "ppgdid.access"]
    assert denials and "request_id=abcdef-123456" in denials[-1]
    response = client.get(reverse("permissions:case_shares", args=[case.pk]), headers={"X-Request-ID": "bad id\n"})
    assert len(response["X-Request-ID"]) == 32 and " " not in response["X-Request-ID"]


def test_django_admin_keeps_memberships_history_with_a_reason(client, world):
    root = UserFactory(is_superuser=True, is_staff=True)
    login(client, root)
    membership = Membership.objects.get(user=world.colleague)
    url = reverse("admin:permissions_membership_change", args=[membership.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "user": world.colleague.pk,
            "organisation": world.ccas.pk,
            "role": Role.SUPERVISOR,
            "communes": [],
            "change_reason": "Promotion",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert membership.history.first().history_change_reason == "Promotion"
    assert client.get(reverse("admin:permissions_membership_history", args=[membership.pk])).status_code == 200
    assert client.get(reverse("admin:cases_organisation_changelist")).status_code == 200
