"""The access matrix extended to closed and rehoused cases, protected and not (issue 15).

closed_access_matrix.csv is the reference: for each surface (case page, timeline, exports, API detail,
lists and counts) × case state × role, what the server must answer. Closing ends partner access:
landlord agents, réservataire agents and commission members outside the referent organisation lose
the case; so does a landlord whose proposal ended while the case goes on with another landlord. The
referent social worker, the supervisor, the commission members of the referent organisation and the
auditor keep it. The landlord keeps its own proposal records on its dwelling pages and the API's
proposal list, without the case file.
"""

import csv
import io
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermission
from openpyxl import load_workbook

from permissions import services as access_services
from permissions.grants import sync_case_grants
from permissions.policy import capped_count, policy
from permissions.roles import Role
from tests.api.conftest import Partner
from tests.factories import TOULON, DwellingFactory, member
from tests.web.test_home import LATER, rows_behind, tiles
from tests.workflows import steps
from workflows import services

pytestmark = pytest.mark.django_db

MATRIX_FILE = Path(__file__).with_name("closed_access_matrix.csv")
NARRATIVE = "SENTINEL-CLOSED-NARRATIVE-8841"
ADDRESS = "SENTINEL-CLOSED-ADDRESS-8842"


def load_matrix() -> dict:
    with MATRIX_FILE.open(newline="", encoding="utf-8") as handle:
        lines = (line for line in handle if line.strip() and not line.startswith("#"))
        return {(row.pop("surface"), row.pop("state")): row for row in csv.DictReader(lines)}


class ClosedWorld:
    """One case per state, all in Toulon, referent organisation the CCAS."""

    def __init__(self, world):
        self.world = world
        self.users = {
            "reception": member(Role.RECEPTION, world.ccas, username="accueil-clos"),
            "social_worker": world.social_worker,
            "supervisor": world.supervisor,
            "commission_member": world.commission,
            "commission_member_referent_org": member(
                Role.COMMISSION_MEMBER, world.ccas, communes=[TOULON], username="commission-ccas"
            ),
            "commission_chair": member(Role.COMMISSION_CHAIR, world.state, communes=[TOULON], username="pres-clos"),
            "landlord_agent": world.landlord_agent,
            "other_landlord_agent": world.other_landlord_agent,
            "reservataire_agent": member(Role.RESERVATAIRE_AGENT, world.reservataire, username="reserv-clos"),
            "territory_admin": member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON], username="terr-clos"),
            "auditor": world.auditor,
            "system_admin": member(Role.SYSTEM_ADMIN, world.state, username="sys-clos"),
        }
        self.cases = {
            "open": steps.propose(world, self.labelled(), DwellingFactory(landlord=world.landlord)),
            "closed": self.closed(self.labelled()),
            "rehoused": self.rehoused(self.labelled()),
            "protected_closed": self.closed(self.labelled(is_protected=True)),
            "protected_rehoused": self.rehoused(self.labelled(is_protected=True)),
            "ended_landlord": self.ended_landlord(self.labelled(is_protected=True)),
        }

    def labelled(self, **kwargs):
        world = self.world
        case = world.flag(world.household(address=ADDRESS), **kwargs)
        values = dict(steps.DIAGNOSTIC, social_narrative=NARRATIVE)
        case = services.diagnostic_complete(actor=world.social_worker, case=case, values=values)
        return steps.label(world, case)

    def closed(self, case):
        return services.case_close(
            actor=self.world.social_worker, case=case, reason="withdrawn", comment="Désistement."
        )

    def rehoused(self, case):
        world = self.world
        case = steps.allocate(world, steps.propose(world, case, DwellingFactory(landlord=world.landlord)))
        return steps.sign(world, steps.accept(world, case))

    def ended_landlord(self, case):
        """The designated landlord's offer is refused; the case goes on with another landlord."""
        world = self.world
        case = steps.allocate(world, steps.propose(world, case, DwellingFactory(landlord=world.landlord)))
        case = steps.refuse(world, case)
        access_services.designation_end(actor=world.social_worker, case=case, reason="Le bailleur se retire")
        case.refresh_from_db()
        # What the committee's new designation writes (workflows.services.committee_decide).
        case.designated_landlord = world.other_landlord
        case.save()
        sync_case_grants(case)
        return case


@pytest.fixture
def closed_world(world):
    return ClosedWorld(world)


def test_matrix_covers_every_state_surface_and_role():
    matrix = load_matrix()
    states = {"open", "closed", "rehoused", "protected_closed", "protected_rehoused", "ended_landlord"}
    surfaces = {"page", "timeline", "export_csv", "export_pdf", "api_detail", "listed", "tasks", "home"}
    assert set(matrix) == {(surface, state) for surface in surfaces for state in states}
    roles = set(next(iter(matrix.values())))
    assert len(roles) == 12 and all(cell.strip() for row in matrix.values() for cell in row.values())
    # A step on a task list or a count on the home page is never one of a case the user may not list.
    for state in states:
        for role in roles:
            for surface in ("tasks", "home"):
                assert matrix[(surface, state)][role] in ("yes", "no"), (surface, state, role)
                if matrix[(surface, state)][role] == "yes":
                    assert matrix[("listed", state)][role] == "yes", (surface, state, role)


PAGES = {
    "page": "cases:detail",
    "timeline": "audit:timeline",
    "export_csv": "audit:export_csv",
    "export_pdf": "audit:export_pdf",
}


def test_every_cell_of_the_closed_matrix(client, closed_world):
    matrix = load_matrix()
    partners = {
        "landlord_agent": Partner(closed_world.world.landlord),
        "other_landlord_agent": Partner(closed_world.world.other_landlord, name="SI autre bailleur"),
    }
    differences = []
    for role, user in closed_world.users.items():
        client.force_login(type(user).objects.get(pk=user.pk))
        listing = client.get(reverse("cases:list")).content.decode()
        exported = client.get(reverse("cases:export_csv")).content.decode("utf-8-sig")  # the list as a file
        in_scope = set(policy.queryset_for(user).values_list("pk", flat=True))
        api_listed = set()
        if role in partners:
            api_listed = {row["id"] for row in partners[role].get("cases/", page_size=100).json()["results"]}
        for state, case in closed_world.cases.items():
            got = {
                surface: str(client.get(reverse(name, args=[case.pk])).status_code) for surface, name in PAGES.items()
            }
            got["api_detail"] = str(partners[role].get(f"cases/{case.pk}/").status_code) if role in partners else "-"
            listed = {
                case.reference in listing,
                case.reference in exported,
                case.pk in in_scope,
                capped_count(policy.queryset_for(user).filter(pk=case.pk)) == 1,
            }
            if role in partners:
                listed.add(case.pk in api_listed)
            got["listed"] = {frozenset({True}): "yes", frozenset({False}): "no"}.get(frozenset(listed), "mixed")
            for surface, answer in got.items():
                expected = matrix[(surface, state)][role]
                if answer != expected:
                    differences.append(f"{surface} {state} {role}: expected {expected}, got {answer}")
    assert not differences, "\n".join(differences)


def yes_no(found: set) -> str:
    return {frozenset({True}): "yes", frozenset({False}): "no"}.get(frozenset(found), "mixed")


def task_cells(client, cases) -> dict:
    """{state: yes/no/mixed}: the case's open step is on the user's task lists ("Mes tâches": the steps taken
    and the team's available steps; the team queue's own page), and in each list's exports, or on none."""
    pages = [client.get(reverse(name)).content.decode() for name in ("workflows:inbox", "workflows:queue")]
    exports = [
        client.get(reverse(name)).content.decode("utf-8-sig")
        for name in ("workflows:inbox_export_csv", "workflows:queue_export_csv")
    ]
    xlsx = [
        {row[0] for row in load_workbook(io.BytesIO(client.get(reverse(name)).content)).active.values}
        for name in ("workflows:inbox_export_xlsx", "workflows:queue_export_xlsx")
    ]
    return {
        state: yes_no(
            {
                any(case.reference in page for page in pages),
                any(case.reference in export for export in exports),
                any(case.reference in refs for refs in xlsx),
            }
        )
        for state, case in cases.items()
    }


def home_cells(client, cases) -> dict:
    """{state: yes/no/mixed}: the case is behind one of the home page's counts. Each count is checked to be
    the rows of the list it links to (tests/web/test_home.py), so a case is counted exactly when it is a row
    of a linked list; the notification centre's rows name no case reference and are left to its own tests."""
    found = tiles(client)
    linked = []
    for label, (count, url) in found.items():
        assert int(count) == rows_behind(client, url), label
        if not url.startswith(reverse("notifications:centre")):
            html = client.get(url).content.decode()
            if "#" in url:  # a section of "Mes tâches"
                marker = f'aria-labelledby="{url.split("#", 1)[1]}"'
                html = html.split(marker, 1)[1].split("</table>", 1)[0] if marker in html else ""
            linked.append(html)
    return {state: yes_no({any(case.reference in html for html in linked)}) for state, case in cases.items()}


def test_task_lists_and_home_counts_follow_the_matrix(client, closed_world):
    """The rows "tasks" and "home" of the matrix. The home page is read 120 days later, when every open step
    is overdue, so a case the user follows is behind its overdue count (the counts' filters are otherwise
    dates and stages: the matrix would say "no" for reasons that have nothing to do with access)."""
    matrix = load_matrix()
    differences = []
    for role, user in closed_world.users.items():
        client.force_login(type(user).objects.get(pk=user.pk))
        got = {"tasks": task_cells(client, closed_world.cases)}
        with time_machine.travel(timezone.now() + LATER, tick=False):
            client.force_login(type(user).objects.get(pk=user.pk))
            got["home"] = home_cells(client, closed_world.cases)
        for surface, cells in got.items():
            for state, answer in cells.items():
                expected = matrix[(surface, state)][role]
                if answer != expected:
                    differences.append(f"{surface} {state} {role}: expected {expected}, got {answer}")
    assert not differences, "\n".join(differences)


def test_closing_revokes_every_partner_grant_in_the_same_transaction(closed_world):
    world = closed_world.world
    for state in ("closed", "rehoused", "protected_closed", "protected_rehoused"):
        case = closed_world.cases[state]
        assert not GroupObjectPermission.objects.filter(object_pk=str(case.pk)).exists(), state
    # The ended landlord holds nothing on the case it left; the new one holds its step and view grants.
    rows = GroupObjectPermission.objects.filter(object_pk=str(closed_world.cases["ended_landlord"].pk))
    holders = {name.split(":")[0] for name in rows.values_list("group__name", flat=True)}
    assert f"org{world.landlord.pk}" not in holders
    assert f"org{world.other_landlord.pk}" in holders


def test_the_landlord_keeps_its_own_records_without_the_case_file(client, closed_world):
    """Dwelling pages and the API proposal list keep the landlord's proposals, CALEOL decisions,
    replies and leases once the case is closed, and never show the case file."""
    world = closed_world.world
    rehoused = closed_world.cases["protected_rehoused"]
    ended = closed_world.cases["ended_landlord"]
    landlord = world.landlord_agent
    client.force_login(type(landlord).objects.get(pk=landlord.pk))
    for case, expected in ((rehoused, "Acceptée"), (ended, "Refusée")):
        proposal = case.proposals.get(landlord=world.landlord)
        response = client.get(reverse("dwellings:detail", args=[proposal.dwelling_id]))
        assert response.status_code == 200
        html = response.content.decode()
        assert case.reference in html and expected in html and "Attribution" in html
        assert "Dossier plus suivi par votre organisme" in html
        assert NARRATIVE not in html and ADDRESS not in html
        # The page does not link to the case it may no longer open.
        assert reverse("cases:detail", args=[case.pk]) not in html
    assert (
        "bail" in client.get(reverse("dwellings:detail", args=[rehoused.proposals.get().dwelling_id])).content.decode()
    )

    partner = Partner(world.landlord)
    response = partner.get("proposals/", page_size=100)
    assert response.status_code == 200
    records = {row["case"]: row for row in response.json()["results"]}
    assert records[rehoused.pk]["lease_signed_on"] == "2026-11-20"
    assert records[rehoused.pk]["caleol_decision"]["decision"] == "allocated"
    assert records[ended.pk]["reply"]["answer"] == "refused"
    assert records[rehoused.pk]["case_reference"] == rehoused.reference
    assert NARRATIVE not in response.content.decode() and ADDRESS not in response.content.decode()
    # Only its own: the other landlord has made no proposal.
    assert Partner(world.other_landlord, name="Autre").get("proposals/").json()["results"] == []
    dwelling = rehoused.proposals.get().dwelling_id
    only = partner.get("proposals/", dwelling=dwelling).json()["results"]
    assert [row["case"] for row in only] == [rehoused.pk]
    assert partner.get("proposals/", dwelling="abc").status_code == 400


def test_the_bureau_keeps_the_letter_of_a_decision_that_closed_the_case(client, world):
    """A "non retenu" decision closes the case: the secretary (State, not the referent organisation)
    loses the case file and the agenda item page, but still issues the household's letter."""
    from committees import services as committee_services
    from committees.models import VoteChoice
    from tests.committees.conftest import CommitteeWorld

    cw = CommitteeWorld(world)
    case = cw.case_at_committee()
    item = committee_services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    cw.vote_all(item, VoteChoice.NOT_KEPT, [cw.chair, cw.secretary, cw.member])
    committee_services.decision_record(
        actor=cw.chair_user, item=item, values={"outcome": "not_kept", "reason": "Pas de critère"}
    )
    case.refresh_from_db()
    assert case.closed_at is not None
    client.force_login(cw.secretary_user)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert client.get(reverse("committees:item", args=[cw.session.pk, item.pk])).status_code == 404
    letter = client.get(reverse("committees:letter", args=[cw.session.pk, item.pk]))
    assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
    # An item not decided yet gives nothing once its case is out of scope.
    other = committee_services.agenda_add(actor=cw.secretary_user, session=cw.session, case=cw.case_at_committee())
    services.case_close(actor=world.social_worker, case=other.case, reason="withdrawn", comment="Désistement.")
    assert client.get(reverse("committees:letter", args=[cw.session.pk, other.pk])).status_code == 404
