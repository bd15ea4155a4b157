"""The menu shows each role its own pages: "Logements" to landlord agents, "Habilitations" to those who
manage memberships (territory administrators)."""

import pytest
from django.urls import reverse

from permissions.roles import Role
from tests.factories import TOULON, member

pytestmark = pytest.mark.django_db

DWELLINGS = f'href="{reverse("dwellings:list")}"'
MEMBERSHIPS = f'href="{reverse("permissions:membership_list")}"'


@pytest.mark.parametrize(
    ("who", "dwellings", "memberships"),
    [("social_worker", False, False), ("landlord_agent", True, False), ("commission", False, False)],
)
def test_menu_per_role(client, world, who, dwellings, memberships):
    client.force_login(getattr(world, who))
    page = client.get(reverse("cases:list")).content.decode()
    assert (DWELLINGS in page, MEMBERSHIPS in page) == (dwellings, memberships)


def test_territory_admin_sees_habilitations_and_the_link_works(client, world):
    admin = member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON], username="admin-territoire")
    client.force_login(admin)
    page = client.get(reverse("cases:list")).content.decode()
    assert MEMBERSHIPS in page and ">Habilitations</a>" in page and DWELLINGS not in page
    response = client.get(reverse("permissions:membership_list"))
    assert response.status_code == 200
    assert 'aria-current="page">Habilitations' in response.content.decode()


def test_landlord_link_leads_to_the_dwellings(client, world):
    client.force_login(world.landlord_agent)
    response = client.get(reverse("dwellings:list"))
    assert response.status_code == 200
    assert 'aria-current="page">Logements' in response.content.decode()


def test_names_not_logins_in_the_header(client, world):
    client.force_login(world.social_worker)
    page = client.get(reverse("cases:list")).content.decode()
    assert f"<span>{world.social_worker.get_full_name()}</span>" in page
