"""Query budgets of the lists for every role that reads cases (issue 18, part 1): ≤ 12 queries per page of the
case list, the task inbox ("Mes tâches") and the team queue, unfiltered and for each filter family, sort and
their combination, and of the home page; the exports of each list, a logged read of their protected rows, cost
a fixed number more whatever their rows (EXPORT_BUDGET).

The data puts several rows on every list of every role, each kind of row the pages read something more for:
steps taken and free at each stage, protected cases (masked cells, break-the-glass lookup), DALO cases, reply
steps (their deadline reads the proposal and the département's reply days), a clock pause and a share. A query
per row (N+1) would take a list past its budget: each list shows at least MIN_ROWS rows.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications import services as clock
from permissions import services as access_services
from permissions.categories import Category
from permissions.roles import Role
from tests.factories import TOULON, DwellingFactory, HouseholdFactory, member
from tests.web.test_task_worklists import EXPORTS as TASK_EXPORTS
from tests.web.test_task_worklists import FILTERS as TASK_FILTERS
from tests.web.test_worklists import FILTERS as CASE_FILTERS
from tests.workflows import steps
from workflows import services

pytestmark = pytest.mark.django_db

BUDGET = 12
# An export is a logged read of its protected rows (web.worklists.log_export): the page's queries plus one
# transaction whatever the number of rows (begin, the reads in one insert, the chains' heads locked, created
# first for a chain's first entry, their entries, the heads moved, commit).
EXPORT_BUDGET = 18
MIN_ROWS = 4  # rows on each role's unfiltered lists (below): enough for a query per row to show
LISTS = {"workflows:inbox": TASK_FILTERS, "workflows:queue": TASK_FILTERS, "cases:list": CASE_FILTERS}
EXPORTS = [*TASK_EXPORTS, "cases:export_csv", "cases:export_xlsx"]
EXPORT_FILTERS = ["", "dalo=oui", "echeance=semaine&tri=echeance", "tri=dalo", "protege=oui", "etape=reply"]
# Which unfiltered list shows at least MIN_ROWS rows for whom (a list not named may be short or empty).
FULL_LISTS = {
    "social_worker": ["workflows:inbox", "workflows:queue", "cases:list"],
    "supervisor": ["workflows:queue", "cases:list"],
    "commission": ["workflows:queue", "cases:list"],
    "landlord_agent": ["workflows:inbox", "workflows:queue", "cases:list"],
    "reservataire": ["cases:list"],
    "reception": ["cases:list"],
    "auditor": ["cases:list"],
}


class BusyWorld:
    """Toulon's cases at every step, a third of them protected, some DALO; the social worker and the landlord
    agent have taken some of their steps, the others wait on the queues."""

    def __init__(self, world):
        self.world = world
        self.users = {
            "social_worker": world.social_worker,
            "supervisor": world.supervisor,
            "commission": world.commission,
            "landlord_agent": world.landlord_agent,
            "reservataire": member(Role.RESERVATAIRE_AGENT, world.reservataire, username="reserv-budget"),
            "reception": member(Role.RECEPTION, world.ccas, communes=[TOULON], username="accueil-budget"),
            "auditor": world.auditor,
        }
        made = [self.flag(i) for i in range(20)]
        for case in made[:4]:  # taken at diagnostic; made[4:8] stay on the queue
            services.task_claim(actor=world.social_worker, case=case, node_name="diagnostic")
        for case in made[8:]:
            steps.diagnose(world, case)
        # made[8:12] wait for the committee; the others are labelled, with a proposal at the CALEOL step
        for case in made[12:]:
            steps.propose(world, steps.label(world, case), DwellingFactory(landlord=world.landlord))
        for case in made[12:14]:  # taken by the landlord at the CALEOL step, made[14:16] on its queue
            services.task_claim(actor=world.landlord_agent, case=case, node_name="caleol")
        for case in made[16:]:  # allocated: the reply step, whose deadline reads the proposal
            steps.allocate(world, case)
        clock.clock_pause(actor=world.social_worker, case=made[9], reason="document")
        access_services.case_share_create(
            actor=world.social_worker,
            case=made[17],
            category=Category.RESOURCES,
            organisation=world.landlord,
            reason="Plan d'apurement",
            ends_on=timezone.localdate(),
        )
        self.cases = made

    def flag(self, i):
        household = HouseholdFactory(applicant_last_name=f"Budget{i}")
        return self.world.flag(household, is_dalo=i % 4 == 1, is_protected=i % 3 == 0)


def count_queries(client, url) -> tuple[int, int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return len(captured.captured_queries), response.status_code, response.content.decode("utf-8", "replace")


def test_every_list_of_every_role_stays_within_budget(client, world):
    busy = BusyWorld(world)
    over, short = [], []
    for role, user in busy.users.items():
        client.force_login(type(user).objects.get(pk=user.pk))
        for name, filters in LISTS.items():
            for query in filters:
                url = f"{reverse(name)}?{query}"
                queries, status, page = count_queries(client, url)
                if status != 200 or queries > BUDGET:
                    over.append(f"{role} {url}: {status}, {queries} queries")
                if not query and name in FULL_LISTS[role]:
                    rows = sum(case.reference in page for case in busy.cases)
                    if rows < MIN_ROWS:
                        short.append(f"{role} {name}: {rows} rows")
        for name in EXPORTS:
            for query in EXPORT_FILTERS:
                url = f"{reverse(name)}?{query}"
                queries, status, _page = count_queries(client, url)
                if status != 200 or queries > EXPORT_BUDGET:
                    over.append(f"{role} {url}: {status}, {queries} queries")
        queries, status, _page = count_queries(client, reverse("home"))
        if status != 200 or queries > BUDGET:
            over.append(f"{role} home: {status}, {queries} queries")
    assert not (short or over), "\n".join([*(f"too short to show a query per row: {s}" for s in short), *over])
