"""Measure the access model at scale: queries per page and server time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppgdid_access_bench \\
        python manage.py migrate && python manage.py access_benchmark --cases 100000 --grants 10000

Creates (once, then reuses) benchmark data marked "Benchmark": `--cases` cases of a CCAS, the first
`--grants` of them designated to one landlord whose agent therefore holds `--grants` case grants
(guardian rows for make_proposal and view_case) and as many open proposal tasks. Then, for that agent,
times the pages that must stay one query whatever the number of grants: the case list, the task queue,
a name search, one case. Each page is run `--repeat` times; the median server time is printed.

Never run it on a production database: it writes thousands of rows. It refuses unless the database
name contains "bench" or "test", or --force is given.
"""

import logging
import os
import statistics
import time

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from simple_history.models import HistoricalRecords

from audit.bulk import bulk_create_with_history, bulk_update_with_history
from audit.commands import AuditedCommand
from cases import choices
from cases.models import Case, Commune, Household, Organisation
from permissions.models import Membership, role_group
from permissions.policy import capped_count, case_or_404, policy, search_cases
from permissions.presenters import VisibleCase, visible_cases
from permissions.queues import task_queue_for
from permissions.roles import Role
from workflows.flows import CaseFlow

PREFIX = "Benchmark"
REASON = "Données de banc d'essai (access_benchmark)"
PAGE = 50
LIST_RELATED = VisibleCase.LIST_RELATED


class Command(AuditedCommand):
    audit_reason = REASON
    help = "Queries per page and server time of the access model for a user with many case grants."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=10_000)
        parser.add_argument("--grants", type=int, default=10_000)
        parser.add_argument("--repeat", type=int, default=7)
        parser.add_argument("--force", action="store_true", help="run even if the database name looks real")

    def handle(self, *args, cases, grants, repeat, force, **options):
        name = str(connection.settings_dict["NAME"])
        if not force and "bench" not in name and "test" not in name:
            raise CommandError(f"Database {name!r} does not look like a benchmark database (use --force).")
        if grants > cases:
            raise CommandError("--grants cannot exceed --cases.")
        started = time.perf_counter()
        user = self.ensure_data(cases, grants)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
        self.stdout.write(f"data ready in {time.perf_counter() - started:.1f} s")
        # The benchmark reads as an ordinary agent would; its read-log lines would only drown the figures.
        logging.getLogger("ppgdid.access.read").setLevel(logging.WARNING)
        self.report(user, cases, grants, repeat)

    # --- data ------------------------------------------------------------------------------------

    def ensure_data(self, n_cases: int, n_grants: int):
        commune = Commune.objects.get(pk="83137")
        ccas = self.org(f"{PREFIX} CCAS", choices.OrganisationKind.COMMUNE, commune)
        landlord = self.org(f"{PREFIX} bailleur", choices.OrganisationKind.LANDLORD, commune)
        User = get_user_model()
        worker, _ = User.objects.get_or_create(username="bench-ts", defaults={"last_name": "Benchmark"})
        agent, _ = User.objects.get_or_create(username="bench-bailleur", defaults={"last_name": "Benchmark"})
        if not Membership.objects.filter(user=worker, organisation=ccas, role=Role.SOCIAL_WORKER).exists():
            Membership.objects.create(user=worker, organisation=ccas, role=Role.SOCIAL_WORKER)
        if not Membership.objects.filter(user=agent, organisation=landlord, role=Role.LANDLORD_AGENT).exists():
            Membership.objects.create(user=agent, organisation=landlord, role=Role.LANDLORD_AGENT)

        existing = Case.objects.filter(organisation=ccas).count()
        if existing < n_cases:
            self.create_cases(existing, n_cases, ccas, worker, commune)
        designated = Case.objects.filter(organisation=ccas, designated_landlord=landlord).count()
        if 0 < designated < n_grants:
            raise CommandError("Benchmark data of another size: use a fresh database.")
        if designated < n_grants:
            self.designate(ccas, landlord, n_grants)
        return agent

    def org(self, name, kind, commune):
        org, created = Organisation.objects.get_or_create(name=name, defaults={"kind": kind})
        if created:
            org.communes.add(commune)
        return org

    def create_cases(self, start, stop, ccas, worker, commune):
        batch = 5_000
        for low in range(start, stop, batch):
            high = min(stop, low + batch)
            with transaction.atomic():
                households = bulk_create_with_history(
                    [
                        Household(
                            nud=f"08324{1 + (i // 100_000) % 12:02d}BENCH{i % 100_000:05d}A",
                            applicant_last_name=f"Bench{i}",
                            applicant_first_name="Alex",
                            applicant_birth_date="1980-01-01",
                            commune=commune,
                            address=f"{i} rue du Banc d'essai",
                            housing_situation=choices.HousingSituation.HOSTED,
                        )
                        for i in range(low, high)
                    ],
                    Household,
                    batch_size=1_000,
                    reason=REASON,
                )
                if connection.vendor != "postgresql":
                    households = Household.objects.filter(nud__contains="BENCH").order_by("pk")[low:high]
                bulk_create_with_history(
                    [
                        Case(
                            household=h,
                            organisation=ccas,
                            referent=worker,
                            status=choices.CaseStatus.PROPOSAL,
                            is_protected=(i % 50 == 0),
                        )
                        for i, h in zip(range(low, high), households, strict=True)
                    ],
                    Case,
                    batch_size=1_000,
                    reason=REASON,
                )
            self.stdout.write(f"  {high} cases")

    def designate(self, ccas, landlord, n_grants):
        """Designate the landlord on the first cases, with their grants and open proposal tasks."""
        from django.contrib.auth.models import Permission
        from guardian.models import GroupObjectPermission
        from viewflow.workflow.models import Process, Task

        # Spread over time, as a landlord's designations are: every k-th case.
        candidates = list(Case.objects.filter(organisation=ccas).order_by("pk").values_list("pk", flat=True))
        step = max(1, len(candidates) // n_grants)
        chosen = candidates[::step][:n_grants]
        pks = list(Case.objects.filter(pk__in=chosen, designated_landlord__isnull=True).order_by("pk"))
        group = role_group(landlord, Role.LANDLORD_AGENT)
        content_type = ContentType.objects.get_for_model(Case)
        perms = list(Permission.objects.filter(content_type=content_type, codename__in=["make_proposal", "view_case"]))
        flow_class = CaseFlow
        for low in range(0, len(pks), 2_000):
            chunk = pks[low : low + 2_000]
            with transaction.atomic():
                for case in chunk:
                    case.designated_landlord = landlord
                    case.decided_in_committee = True  # a designation is a committee decision
                bulk_update_with_history(
                    chunk, Case, ["designated_landlord", "decided_in_committee"], batch_size=1_000, reason=REASON
                )
                bulk_create_with_history(
                    [
                        GroupObjectPermission(group=group, permission=p, content_type=content_type, object_pk=str(c.pk))
                        for c in chunk
                        for p in perms
                    ],
                    GroupObjectPermission,
                    batch_size=1_000,
                    reason=REASON,
                )
                # Engine rows: base processes in bulk, the CaseProcess child rows by plain insert
                # (bulk_create cannot write multi-table children). Benchmark data only.
                processes = Process.objects.bulk_create(
                    [Process(flow_class=flow_class, status="NEW") for _ in chunk], batch_size=1_000
                )
                if connection.vendor != "postgresql":
                    processes = list(Process.objects.order_by("-pk")[: len(chunk)])[::-1]
                with connection.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO workflows_caseprocess (process_ptr_id, case_id) VALUES (%s, %s)",
                        [(p.pk, c.pk) for p, c in zip(processes, chunk, strict=True)],
                    )
                Task.objects.bulk_create(
                    [
                        Task(
                            process=p,
                            flow_task=CaseFlow.proposal,
                            flow_task_type="HUMAN",
                            status="NEW",
                            owner_permission="cases.make_proposal",
                            owner_permission_content_type=content_type,
                            owner_permission_obj_pk=str(c.pk),
                        )
                        for p, c in zip(processes, chunk, strict=True)
                    ],
                    batch_size=1_000,
                )
            self.stdout.write(f"  {low + len(chunk)} grants")

    # --- measures ---------------------------------------------------------------------------------

    def measure(self, label, page, repeat, user_pk):
        User = get_user_model()
        times, db_times, queries = [], [], None
        for _ in range(repeat):
            user = User.objects.get(pk=user_pk)  # a fresh user per "request", as in a real one
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                page(user)
                elapsed = (time.perf_counter() - started) * 1000
            times.append(elapsed)
            db_times.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
            queries = len(ctx.captured_queries)
        median, best = statistics.median(times), min(times)
        self.stdout.write(
            f"{label:<44} {queries:>3} queries   median {median:7.1f} ms   min {best:7.1f} ms   "
            f"(database {statistics.median(db_times):6.1f} ms)"
        )
        return queries, best

    def report(self, agent, n_cases, n_grants, repeat):
        from guardian.models import GroupObjectPermission

        total = Case.objects.count()
        rows = GroupObjectPermission.objects.filter(group__user=agent).count()
        self.stdout.write(
            f"database={connection.vendor} cases={total} benchmark_cases>={n_cases} "
            f"user={agent.username} case_grants={rows} (designated cases: {n_grants})"
        )
        some_case = policy.queryset_for(agent).order_by("pk").first()

        def case_list(user):
            qs = policy.queryset_for(user).select_related(*LIST_RELATED)
            count = capped_count(qs)
            page = qs.order_by("-created_at")[:PAGE]
            rendered = [v.list_row() for v in visible_cases(user, page, section="list")]
            assert count > 0 and len(rendered) == PAGE

        def full_count(user):
            assert policy.queryset_for(user).count() >= n_grants

        def case_list_rows_only(user):
            list(policy.queryset_for(user).select_related("household").order_by("-created_at")[:PAGE])

        def task_queue(user):
            tasks = task_queue_for(user)
            assert len(tasks) == PAGE + 1

        def search(user):
            list(search_cases(user, "Bench12").select_related("household")[:PAGE])

        def case_page(user):
            request = type("Request", (), {"user": user, "request_id": "bench"})()
            case = case_or_404(request, some_case.pk)
            VisibleCase(user, case).as_dict()

        results = [
            self.measure("case list (count<=1000 + 50 rows + visibility)", case_list, repeat, agent.pk),
            self.measure("case list rows only (50)", case_list_rows_only, repeat, agent.pk),
            self.measure("exact count of all cases in scope", full_count, repeat, agent.pk),
            self.measure("task queue (count<=1000 + 50 tasks)", task_queue, repeat, agent.pk),
            self.measure("search by name (50)", search, repeat, agent.pk),
            self.measure("one case (selector + presenter)", case_page, repeat, agent.pk),
        ]
        results += self.http_pages(agent, repeat)
        worst_q = max(q for q, _t in results)
        worst_t = max(t for _q, t in results)
        verdict = "OK" if worst_q <= 12 and worst_t < 50 else "OVER TARGET"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
        self.stdout.write(
            f"worst: {worst_q} queries, {worst_t:.1f} ms best-of-{repeat} (target <= 12 queries, < 50 ms): {verdict}"
            f"\nload average {load} on {os.cpu_count()} CPUs (times include waiting for a busy CPU)"
        )

    def http_pages(self, agent, repeat):
        """The real pages, when the UI that serves them is installed (cases:list, workflows:queue)."""
        from django.test import Client

        results = []
        for name in ("cases:list", "workflows:queue", "workflows:inbox"):
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(agent)

            def page(user, url=url, client=client):
                # The in-process request runs simple-history's middleware, which clears the
                # command's history context on the way out: put it back.
                saved = getattr(HistoricalRecords.context, "request", None)
                try:
                    response = client.get(url)
                finally:
                    HistoricalRecords.context.request = saved
                assert response.status_code == 200, response.status_code

            results.append(self.measure(f"HTTP GET {url}", page, repeat, agent.pk))
        return results
