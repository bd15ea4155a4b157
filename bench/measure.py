"""What the benchmark measures: page server times and query counts per role, the same lists computed
the stock way (viewflow's queue, guardian's get_objects_for_user), and workflow transitions per second.

Server time is the time Django takes to answer a request (middleware, view, queries, template),
measured in-process with the test client, so neither network nor browser counts.
"""

import gc
import logging
import multiprocessing
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, connections, reset_queries
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases import choices
from cases.models import Case, Organisation
from committees.models import Committee, Session
from committees.scripted import decide_in_writing
from committees.selectors import not_busy  # cases on a session's agenda are decided there
from permissions.grants import MANAGED_PERMISSIONS
from permissions.policy import memberships_of, policy
from permissions.queues import PAGE_SIZE, task_queue_for
from workflows import services
from workflows.flows import CaseFlow

ROLES = ("bench.ts", "bench.supervisor", "bench.commission", "bench.landlord")
STOCK_REPEAT = 3
# Who measures the steering pages: a territory view (commission member) and a landlord's own part.
STEERING_USERS = ("bench.commission", "bench.landlord")


@dataclass
class Sample:
    user: str
    page: str
    p50_ms: float
    p95_ms: float
    queries: int
    runs: int
    stock_p50_ms: float | None = None
    stock_queries: int | None = None

    @property
    def ratio(self) -> float | None:
        return round(self.stock_p50_ms / self.p50_ms, 1) if self.stock_p50_ms and self.p50_ms else None


@dataclass
class Report:
    cases: int
    pages: list[Sample] = field(default_factory=list)
    transitions: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)  # step kind → queries and time of one transition

    def as_json(self) -> dict:
        return {
            "cases": self.cases,
            "pages": [asdict(s) | {"ratio": s.ratio} for s in self.pages],
            "transitions": self.transitions,
            "queries_per_transition": {kind: f["queries"] for kind, f in self.kinds.items()},
            "transition_kinds": self.kinds,
            "floor_ratio": floor_ratios(self.transitions, self.kinds),
        }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed_once(fn) -> tuple[float, int]:
    """(milliseconds, queries) of one run of `fn`."""
    reset_queries()  # the stock way can pass Django's 9,000-query log, which breaks the count
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - started) * 1000
    return elapsed, len(ctx.captured_queries)


def _timed(fn, repeat: int) -> tuple[list[float], int]:
    """Run `fn` once to warm up, then `repeat` times; (milliseconds of each run, queries of the last)."""
    gc.collect()  # the garbage of the previous measure (a stock queue leaves millions of objects) is not this one's
    fn()
    runs = [_timed_once(fn) for _ in range(repeat)]
    return [ms for ms, _queries in runs], runs[-1][1]


def _interleaved(pages: list, repeat: int) -> list[tuple[list[float], int]]:
    """Each page once per round, `repeat` rounds: a minute when the machine is slow (another process,
    the disk flushing) spreads over every page's samples instead of landing on one page's tail.
    [(milliseconds of each run, queries of the last)] in the order of `pages`."""
    for fn in pages:
        fn()  # warm-up
    times = [[] for _ in pages]
    queries = [0] * len(pages)
    for _ in range(repeat):
        gc.collect()  # between rounds, not inside a page's run
        for i, fn in enumerate(pages):
            ms, queries[i] = _timed_once(fn)
            times[i].append(ms)
    return list(zip(times, queries, strict=True))


def _get(client, url):
    def fetch():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return fetch


def _fresh(user):
    # viewflow caches a user's object grants on the user object: the stock way pays for them each time.
    return get_user_model().objects.get(pk=user.pk)


def _stock_queue(user):
    def run():
        tasks = (
            Task.objects.filter(process__flow_class=CaseFlow, status=STATUS.NEW)
            .user_queue(_fresh(user))
            .order_by("created")
        )
        return list(tasks[:PAGE_SIZE])

    return run


def _stock_case_list(user):
    from guardian.shortcuts import get_objects_for_user

    def run():
        cases = get_objects_for_user(
            _fresh(user), [f"cases.{code}" for code in MANAGED_PERMISSIONS], klass=Case, any_perm=True
        )
        return list(cases.select_related("household").order_by("-created_at")[:PAGE_SIZE])

    return run


def _our_case_list(user):
    def run():
        return list(policy.queryset_for(_fresh(user)).select_related("household").order_by("-created_at")[:PAGE_SIZE])

    return run


def _case_with_history(user) -> Case | None:
    """A case the user sees that has gone far (long timeline): the worst case page for them."""
    scope = policy.queryset_for(user)
    for status in (choices.CaseStatus.LEASE, choices.CaseStatus.REPLY, choices.CaseStatus.CALEOL):
        case = scope.filter(status=status).order_by("-pk").first()
        if case:
            return case
    return scope.order_by("-pk").first()


def _agenda_session(user):
    from django.db.models import Count

    return (
        Session.objects.filter(committee__members__user=user)
        .annotate(n_items=Count("items"))
        .order_by("-n_items", "-pk")
        .first()
    )


FILTERED_INBOX = "?dalo=non&tri=echeance"  # a due-date sort: the steps read, sorted in Python
FILTERED_QUEUE = "?echeance=semaine&commune=Marseille"  # a due filter and a commune
FILTERED_CASES = "?etat=ouverts&dalo=oui&tri=dalo"
FILTERED_EXPORT = "?etat=ouverts&dalo30=oui"  # the DALO deadlines at risk, as a spreadsheet


def measure_pages(repeat: int, stock: bool, log=print) -> list[Sample]:
    logging.disable(logging.WARNING)  # denial and read logs would drown the figures
    users = {u.username: u for u in get_user_model().objects.filter(username__in=ROLES)}
    missing = set(ROLES) - set(users)
    if missing:
        raise RuntimeError(f"benchmark users missing ({', '.join(sorted(missing))}): run generate_territory first")
    runs = []  # (user, page, ours, the stock way or None)
    for name in ROLES:
        user = users[name]
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        runs += [
            (name, "task inbox page", _get(client, reverse("workflows:inbox")), None),
            (name, "task queue", lambda u=user: task_queue_for(_fresh(u)), _stock_queue(user) if stock else None),
            (name, "case list", _our_case_list(user), _stock_case_list(user) if stock else None),
            (name, "case list page", _get(client, reverse("cases:list")), None),
            (name, "queue page", _get(client, reverse("workflows:queue")), None),
            (name, "home page", _get(client, reverse("home")), None),
        ]
        # The worklists with filters (web/worklists.py): each family of filter reads another way.
        runs += [
            (name, "inbox, filtered", _get(client, reverse("workflows:inbox") + FILTERED_INBOX), None),
            (name, "queue, filtered", _get(client, reverse("workflows:queue") + FILTERED_QUEUE), None),
            (name, "cases, filtered", _get(client, reverse("cases:list") + FILTERED_CASES), None),
            (name, "cases export xlsx", _get(client, reverse("cases:export_xlsx") + FILTERED_EXPORT), None),
            (name, "queue export csv", _get(client, reverse("workflows:queue_export_csv") + FILTERED_QUEUE), None),
            (name, "inbox export xlsx", _get(client, reverse("workflows:inbox_export_xlsx")), None),
        ]
        case = _case_with_history(user)
        if case is not None:
            runs += [
                (name, "case page", _get(client, reverse("cases:detail", args=[case.pk])), None),
                (name, "case timeline", _get(client, reverse("audit:timeline", args=[case.pk])), None),
            ]
        if name in STEERING_USERS:
            query = f"?debut={timezone.localdate():%Y}-01"
            runs += [
                (name, "steering dashboard", _get(client, reverse("steering:dashboard") + query), None),
                (name, "steering quotas", _get(client, reverse("steering:quotas") + query), None),
            ]
        session = _agenda_session(user) if name == "bench.commission" else None
        if session is not None:
            agenda = reverse("committees:session", args=[session.pk])
            runs.append((name, "committee agenda", _get(client, agenda), None))
    samples = []
    for (name, page, _fn, stock_fn), (times, queries) in zip(
        runs, _interleaved([fn for _n, _p, fn, _s in runs], repeat), strict=True
    ):
        p50, p95 = round(statistics.median(times), 1), round(percentile(times, 0.95), 1)
        sample = Sample(name, page, p50, p95, queries, repeat)
        if stock_fn is not None:
            # A few runs only: the stock queue takes seconds at 100,000 cases.
            stock_times, sample.stock_queries = _timed(stock_fn, STOCK_REPEAT)
            sample.stock_p50_ms = round(statistics.median(stock_times), 1)
        log(f"  {name:18} {page:18} p50 {sample.p50_ms:8.1f} ms  p95 {sample.p95_ms:8.1f} ms  {queries} q")
        samples.append(sample)
    logging.disable(logging.NOTSET)
    return samples


# --- transitions ---------------------------------------------------------------------------------

DIAGNOSTIC = {
    "family_situation": "Parent isolé avec deux enfants (banc d'essai).",
    "monthly_resources": 1400,
    "monthly_housing_cost": 0,
    "social_narrative": "Récit de banc d'essai.",
    "committee_synthesis": "Ménage hébergé, besoin d'un T3.",
    "health_autonomy": "",
    "recommended_typology": "T3",
    "urgency": choices.Urgency.HIGH,
}


def transition_work(n: int) -> list[tuple[str, int]]:
    """`n` open steps the benchmark users may complete: diagnostics, then committee reviews."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=ROLES)}
    work = []
    for username, node in (("bench.ts", "diagnostic"), ("bench.commission", "committee")):
        user = users[username]
        # The user's own steps and those nobody has taken (a colleague's step is not theirs to do).
        open_steps = Task.objects.filter(
            flow_task=getattr(CaseFlow, node), status__in=(STATUS.NEW, STATUS.ASSIGNED)
        ).filter(Q(owner__isnull=True) | Q(owner=user))
        ids = (
            policy.queryset_for(user)
            .filter(processes__task__in=open_steps, dalo_loss_review_pending=False)  # plain reviews only
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if node == "committee":  # the committee decides what lies in its territory (written procedure)
            ids = not_busy(ids.filter(household__commune__in=_committee_of(user).communes.all()))
        work += [(username, pk) for pk in ids[: n - len(work)]]
        if len(work) >= n:
            break
    return work


def _do(username: str, case_id: int) -> None:
    user = get_user_model().objects.get(username=username)
    case = Case.objects.get(pk=case_id)
    if case.status == choices.CaseStatus.DIAGNOSTIC:
        services.diagnostic_complete(actor=user, case=case, values=DIAGNOSTIC)
    else:
        # No member decides alone: the user's committee decides by written procedure (committees.scripted).
        landlord = Organisation.objects.filter(kind=choices.OrganisationKind.LANDLORD).order_by("pk").first()
        decide_in_writing(
            committee=_committee_of(user),
            case=case,
            values={
                "outcome": choices.CommitteeOutcome.LABELLED,
                "orientation": choices.Orientation.ORDINARY,
                "designated_landlord": landlord,
                "support_measure": choices.SupportMeasure.NONE,
            },
        )


def _committee_of(user):
    return Committee.objects.filter(members__user=user, members__is_active=True).order_by("pk").first()


def _worker(work, do, results):
    connections.close_all()  # a forked child must open its own connection
    logging.disable(logging.WARNING)
    for username, pk in work:
        do(username, pk)
    results.put(len(work))
    connections.close_all()


def transitions_per_second(work: list[tuple[str, int]], workers: int, do=_do) -> dict:
    """`do(username, pk)` for each item with `workers` processes (1: in this process); transitions per second.

    `do` is ours (`_do`: a case step) or the stock floor's (`bench.floor.complete`: a bare viewflow task).
    """
    if not work:
        return {"workers": workers, "transitions": 0, "per_second": None}
    started = time.perf_counter()
    if workers == 1:
        logging.disable(logging.WARNING)
        for username, pk in work:
            do(username, pk)
        logging.disable(logging.NOTSET)
        done = len(work)
    else:
        connections.close_all()
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        slices = [work[i::workers] for i in range(workers)]
        processes = [context.Process(target=_worker, args=(part, do, results)) for part in slices]
        for process in processes:
            process.start()
        done = sum(results.get(timeout=3600) for _ in processes)
        for process in processes:
            process.join()
    elapsed = time.perf_counter() - started
    return {
        "workers": workers,
        "transitions": done,
        "seconds": round(elapsed, 2),
        "per_second": round(done / elapsed, 1),
    }


# --- where a transition's time goes ---------------------------------------------------------------


def transition_breakdown(work: list[tuple[str, int]]) -> dict:
    """Transitions per second (alone) in three equal slices of `work`: whole, then with the
    notifications switched off, then also the grants and the audit chain. A measure of what each
    part costs, for a benchmark database only: the last slices write steps nobody is told of, with
    no grant moved and no audit entry."""
    from contextlib import ExitStack
    from unittest import mock

    off = lambda *args, **kwargs: None  # noqa: E731
    notifications = [
        mock.patch("notifications.events.step_opened", off),
        mock.patch("notifications.events.committee_outcome", off),
        mock.patch("notifications.events.proposal_made", off),
    ]
    grants_and_audit = [
        mock.patch("workflows.flows.grant_step", off),
        mock.patch("audit.chain.chain_history_rows", lambda rows, **kwargs: []),
    ]
    third = len(work) // 3
    figures = {}
    for i, (name, patches) in enumerate(
        (
            ("whole", []),
            ("without notifications", notifications),
            ("without notifications, grants, audit chain", notifications + grants_and_audit),
        )
    ):
        with ExitStack() as stack:
            for patch in patches:
                stack.enter_context(patch)
            figures[name] = transitions_per_second(work[i * third : (i + 1) * third], 1)["per_second"]
    return figures


# --- each step kind: queries and time of one transition, beside the floor ---------------------------

KINDS = ("diagnostic", "committee", "proposal", "caleol", "reply", "lease")
# The user who takes each kind of step on a generated territory.
KIND_USERS = {
    "diagnostic": "bench.ts",
    "committee": "bench.commission",
    "proposal": "bench.landlord",
    "caleol": "bench.landlord",
    "reply": "bench.landlord",
    "lease": "bench.landlord",
}
# The transaction's BEGIN and COMMIT: sent by the driver, not logged by Django, counted by the target.
TRANSACTION_STATEMENTS = 2


def _kind_cases(user, kind: str, n: int) -> list[int]:
    """Up to `n` open cases whose `kind` step the user may take (theirs or nobody's)."""
    open_steps = Task.objects.filter(
        flow_task=getattr(CaseFlow, kind), status__in=(STATUS.NEW, STATUS.ASSIGNED)
    ).filter(Q(owner__isnull=True) | Q(owner=user))
    ids = (
        policy.queryset_for(user)
        .filter(processes__task__in=open_steps, dalo_loss_review_pending=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if kind == "committee":
        committee = _committee_of(user)
        if committee is None:
            return []
        ids = not_busy(ids.filter(household__commune__in=committee.communes.all()))
    return list(ids[:n])


def _free_dwelling(user):
    from cases.models import Dwelling

    landlords = [g.organisation_id for g in memberships_of(user) if g.role == "landlord_agent"]
    return (
        Dwelling.objects.filter(landlord_id__in=landlords)
        .exclude(offers__status=choices.OfferStatus.OPEN)
        .order_by("pk")
        .first()
    )


def _kind_transition(kind: str, user, case):
    """(the transition, prepared: what it needs done untimed) of one step of `kind` on `case`."""
    from datetime import UTC, datetime

    from django.utils import timezone

    today = timezone.localdate()
    if kind == "diagnostic":
        return lambda: services.diagnostic_complete(actor=user, case=case, values=DIAGNOSTIC)
    if kind == "committee":
        from committees import services as committee_services
        from committees.models import CommitteeMember
        from committees.scripted import choice_for

        committee = _committee_of(user)
        seats = committee.members.filter(is_active=True).select_related("user")
        secretary = seats.get(function=CommitteeMember.Function.SECRETARY).user
        values = {
            "outcome": choices.CommitteeOutcome.LABELLED,
            "orientation": choices.Orientation.ORDINARY,
            "designated_landlord": Organisation.objects.filter(kind=choices.OrganisationKind.LANDLORD)
            .order_by("pk")
            .first(),
            "support_measure": choices.SupportMeasure.NONE,
        }
        procedure = committee_services.procedure_open(
            actor=secretary, committee=committee, case=case, deadline=today + timedelta(days=7), reason="Banc d'essai"
        )
        for seat in seats.filter(has_vote=True):
            committee_services.procedure_vote(actor=seat.user, procedure=procedure, choice=choice_for(values))
        return lambda: committee_services.procedure_close(actor=secretary, procedure=procedure, values=values)
    if kind == "proposal":
        dwelling = _free_dwelling(user)
        values = {
            "dwelling": dwelling,
            "notified_on": today,
            "match_override_reason": "Banc d'essai : proposition maintenue.",
            "fewer_candidates_reason": choices.FewerCandidatesReason.TOO_FEW,
            "fewer_candidates_detail": "Banc d'essai.",
        }
        if case.is_dalo:
            values["dalo_notice_given_at"] = datetime.now(UTC) - timedelta(days=1)
        return lambda: services.proposal_make(actor=user, case=case, values=values)
    if kind == "caleol":
        values = {
            "decision": choices.CaleolDecisionType.ALLOCATED,
            "decided_on": today,
            "fewer_candidates_reason": choices.FewerCandidatesReason.TOO_FEW,
            "fewer_candidates_detail": "Banc d'essai.",
        }
        return lambda: services.caleol_record(actor=user, case=case, values=values)
    if kind == "reply":
        values = {"answer": choices.ReplyAnswer.ACCEPTED, "replied_on": today}
        return lambda: services.reply_record(actor=user, case=case, values=values)
    return lambda: services.lease_record(actor=user, case=case, signed_on=today)


def measure_kinds(samples: int, log=print) -> dict:
    """Per step kind, up to `samples` transitions on distinct generated cases (committed: a benchmark
    database only): {kind: {"queries": statements of one transition, BEGIN/COMMIT included,
    "p50_ms": median time of the transition alone (its preparation, e.g. the committee's vote, untimed),
    "runs": n}}. A case whose generated data the step refuses (a ValidationError) is skipped."""
    from django.core.exceptions import PermissionDenied, ValidationError

    logging.disable(logging.WARNING)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=set(KIND_USERS.values()))}
    figures = {}
    for kind in KINDS:
        user = users.get(KIND_USERS[kind])
        times, counts = [], []
        for case_id in _kind_cases(user, kind, samples * 3) if user else []:
            if len(times) >= samples:
                break
            actor = get_user_model().objects.get(pk=user.pk)  # a fresh user object, as in a request
            case = Case.objects.get(pk=case_id)
            try:
                run = _kind_transition(kind, actor, case)
                gc.collect()
                reset_queries()
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    run()
                    elapsed = (time.perf_counter() - started) * 1000
            except (ValidationError, PermissionDenied, services.StepConflict):
                continue
            times.append(elapsed)
            counts.append(len(ctx.captured_queries) + TRANSACTION_STATEMENTS)
        if times:
            figures[kind] = {
                "queries": max(counts),
                "queries_min": min(counts),
                "p50_ms": round(statistics.median(times), 1),
                "runs": len(times),
            }
            log(f"  {kind:12} {figures[kind]['queries']:4} queries  p50 {figures[kind]['p50_ms']:7.1f} ms")
        else:
            log(f"  {kind:12} no case of the territory is at this step for {KIND_USERS[kind]}")
    logging.disable(logging.NOTSET)
    return figures


def floor_ratios(transitions: dict, kinds: dict) -> dict:
    """Our transition time ÷ the bare viewflow floor's (bench/floor.py), same run: alone, with the
    workers, and per step kind (the kind's median transition against the floor's mean, alone)."""
    floor = transitions.get("floor", {})
    ratios = {}
    for mode in ("alone", "concurrent"):
        ours, bare = transitions.get(mode, {}).get("per_second"), floor.get(mode, {}).get("per_second")
        if ours and bare:
            ratios[mode] = round(bare / ours, 2)
    bare_alone = floor.get("alone", {})
    if bare_alone.get("transitions"):
        floor_ms = bare_alone["seconds"] * 1000 / bare_alone["transitions"]
        ratios["floor_ms"] = round(floor_ms, 2)
        ratios["per_kind"] = {kind: round(f["p50_ms"] / floor_ms, 2) for kind, f in kinds.items()}
    return ratios
