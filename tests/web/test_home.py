"""The home page (/): each count equals the rows of the list it links to, per role, within a query budget."""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from committees import services as committee_services
from permissions.roles import Role
from tests.factories import TOULON, HouseholdFactory, member
from tests.workflows import steps

pytestmark = pytest.mark.django_db

TILE = re.compile(r'<a href="([^"]+)"><span class="count">([^<]+)</span> <span class="label">([^<]+)</span></a>')
LATER = timedelta(days=120)  # every diagnostic and committee step is overdue by then


@pytest.fixture
def cases(world):
    """Cases at several stages: diagnostic (one DALO with a deadline soon), committee, CALEOL, reply."""
    made = [world.flag(HouseholdFactory(applicant_last_name=f"Martin{i}")) for i in range(3)]
    dalo = world.flag(HouseholdFactory(applicant_last_name="Durand"), is_dalo=True)
    steps.diagnose(world, made[0])
    for case in made[1:]:
        steps.diagnose(world, case)
        steps.label(world, case)
    steps.propose(world, made[1])
    steps.propose(world, made[2])
    steps.allocate(world, made[2])
    made.append(dalo)
    return made


def tiles(client) -> dict:
    """{label: (count text, url)} of the home page."""
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {unescape(label): (count, unescape(url)) for url, count, label in TILE.findall(response.content.decode())}


def rows_behind(client, url) -> int:
    """How many rows the linked list shows (a first page, at most 50 rows in the tests' data)."""
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    if url.startswith(reverse("cases:list")):
        body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        shown = len(re.findall(r'<tr>\s*<td><a href="/dossiers/\d+/">', body))
        caption = re.search(r"<caption>(\d+) dossier", html)
        assert caption and int(caption.group(1)) == shown  # one page: the caption's total is the rows
        return shown
    if url.startswith(reverse("workflows:inbox")):
        anchor = url.split("#", 1)[1]
        if f'aria-labelledby="{anchor}"' not in html:
            return 0
        table = html.split(f'aria-labelledby="{anchor}"', 1)[1].split("</table>", 1)[0]
        return table.count("<tr>") - 1  # the header row
    if url.startswith(reverse("notifications:centre")):
        return html.count('class="notification notification-unread')
    raise AssertionError(f"unexpected link {url}")


def check_counts(client, user, expected_labels=()):
    client.force_login(user)
    found = tiles(client)
    for label in expected_labels:
        assert label in found, f"{label} missing from {sorted(found)}"
    for label, (count, url) in found.items():
        assert int(count) == rows_behind(client, url), f"{user.username}: {label}"
    return found


def test_social_worker_counts_are_the_rows_of_their_lists(client, world, cases):
    found = check_counts(
        client,
        world.social_worker,
        [
            "Dossiers dont l'étape est en retard",
            "Dossiers dont l'étape arrive à échéance sous 7 jours",
            "Échéances DALO dans les 30 jours ou dépassées",
            "Étapes prises en charge par moi",
            "Étapes disponibles pour mon équipe",
            "Notifications non lues",
        ],
    )
    # Her own cases only (referent), as the list she is sent to.
    assert "referent=moi" in found["Dossiers dont l'étape est en retard"][1]
    with time_machine.travel(timezone.now() + LATER, tick=False):
        found = check_counts(client, world.social_worker)
        assert int(found["Dossiers dont l'étape est en retard"][0]) >= 1


def test_a_colleague_does_not_count_her_cases(client, world, cases):
    with time_machine.travel(timezone.now() + LATER, tick=False):
        found = check_counts(client, world.colleague)
    assert found["Dossiers dont l'étape est en retard"][0] == "0"


def test_supervisor_counts(client, world, cases):
    with time_machine.travel(timezone.now() + LATER, tick=False):
        found = check_counts(client, world.supervisor)
    assert "referent=moi" not in found["Dossiers dont l'étape est en retard"][1]
    assert int(found["Dossiers dont l'étape est en retard"][0]) >= 1


def test_landlord_counts_offers_and_caleol_decisions(client, world, cases):
    found = check_counts(
        client,
        world.landlord_agent,
        ["Offres en attente de la réponse du ménage", "Décisions CALEOL à enregistrer"],
    )
    assert found["Offres en attente de la réponse du ménage"][0] == "1"
    assert found["Décisions CALEOL à enregistrer"][0] == "1"
    # Another landlord sees none of them.
    found = check_counts(client, world.other_landlord_agent)
    assert found["Offres en attente de la réponse du ménage"][0] == "0"
    assert found["Décisions CALEOL à enregistrer"][0] == "0"


def test_commission_member_and_secretary(client, world, cases):
    waiting = world.flag(HouseholdFactory(applicant_last_name="Attente"))
    steps.diagnose(world, waiting)
    committee = steps.committee(world, waiting)
    secretary = steps.secretary(world)
    session = committee_services.session_create(
        actor=secretary, committee=committee, starts_at=timezone.now() + timedelta(days=3), place="Préfecture"
    )
    committee_services.agenda_add(actor=secretary, session=session, case=waiting)
    found = check_counts(client, world.commission, ["Dossiers en attente de commission"])
    assert found["Dossiers en attente de commission"][0] == "2"  # the fixture's first case and this one
    page = client.get(reverse("home")).content.decode()
    assert reverse("committees:session", args=[session.pk]) in page
    assert "1 dossier, dont 0 décidé" in page and "Préparer l'ordre du jour" not in page
    check_counts(client, secretary, ["Dossiers en attente de commission"])
    page = client.get(reverse("home")).content.decode()
    assert "Préparer l'ordre du jour" in page


@pytest.mark.parametrize("who", ["social_worker", "supervisor", "landlord_agent", "commission", "auditor"])
def test_home_stays_within_budget(client, world, cases, who, django_assert_max_num_queries):
    """12 for a social worker: session, user, memberships, the header's badge; the open steps and the
    4 reads of the due-date rule; the other counts in one query; the team queue's 2 (its page, its steps:
    its groups are named from the memberships). A committee seat adds the next session."""
    client.force_login(getattr(world, who))
    with django_assert_max_num_queries(13):
        response = client.get(reverse("home"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("role", "link"),
    [
        (Role.TERRITORY_ADMIN, "exchanges:imports"),
        (Role.RESERVATAIRE_AGENT, "cases:list"),
        (Role.RECEPTION, "reception:orientation"),
        (Role.DPO, "privacy:dpo"),
        (Role.AUDITOR, "cases:list"),
    ],
)
def test_other_roles_get_their_pages(client, world, role, link, django_assert_max_num_queries):
    organisation = world.reservataire if role == Role.RESERVATAIRE_AGENT else world.ccas
    user = member(role, organisation, communes=[TOULON], username=f"u-{role}")
    client.force_login(user)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("home")).content.decode()
    assert f'href="{reverse(link)}"' in page
    assert client.get(reverse(link)).status_code == 200


def test_login_lands_on_the_home_page(client, world):
    response = client.post(reverse("login"), {"username": "ts", "password": "motdepasse-test-1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert 'aria-current="page">Accueil</a>' in response.content.decode()
