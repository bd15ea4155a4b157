"""The generated territory must be what the real flow would have left: tasks, grants, chains, scope,
and the real services must carry a generated case on."""

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from guardian.models import GroupObjectPermission
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from audit.chain import all_chain_keys, history_models, unchained_rows, verify_chain
from bench.cases import STATUS_OF
from cases import choices
from cases.audit import acting_as, system_actor
from cases.models import Case, Commune
from permissions.grants import sync_case_grants
from permissions.policy import memberships_of, policy
from permissions.queues import task_queue_for
from permissions.roles import COMMISSION_ROLES, Role
from workflows import services
from workflows.flows import CaseFlow

N_CASES = 200
ACTIVE = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


@pytest.fixture
def territory(db):
    from cases.reference import load_communes

    if not Commune.objects.exists():  # transactional tests flush the migration-loaded communes
        load_communes(Commune)
    out = StringIO()
    call_command("generate_territory", cases=N_CASES, batch=70, agenda=5, quiet=True, seed=7, stdout=out)
    return out.getvalue()


def user(name):
    return get_user_model().objects.get(username=name)


def test_every_open_case_has_one_active_human_task_matching_its_status(territory):
    status_of_node = {getattr(CaseFlow, name).name: status for name, status in STATUS_OF.items()}
    cases = {c.pk: c for c in Case.objects.all()}
    assert len(cases) == N_CASES
    active = {}
    for task in Task.objects.filter(flow_task_type="HUMAN", status__in=ACTIVE).select_related("process"):
        assert task.process.caseprocess.case_id not in active, "two active steps on one case"
        active[task.process.caseprocess.case_id] = task
    statuses = set()
    for pk, case in cases.items():
        statuses.add(case.status)
        process = case.processes.get()
        if case.is_open:
            task = active[pk]
            assert status_of_node[task.flow_task.name] == case.status
            assert task.owner_permission == f"cases.{task.flow_task._owner_permission.split('.')[1]}"
            assert task.owner_permission_obj_pk == str(pk)
            assert (task.owner_id is None) == (task.status == STATUS.NEW)
            assert process.status == PROCESS.NEW and process.finished is None
        else:
            assert pk not in active
            assert process.status in (PROCESS.DONE, PROCESS.CANCELED) and process.finished
            assert case.closure_reason
    assert statuses == set(choices.CaseStatus.values)  # every step is represented
    # Each human step has its deadline boundary timer, pending exactly while the step is open.
    timers = {
        t.data["watched_task"]: t
        for t in Task.objects.filter(flow_task_type="TIMER", process__caseprocess__isnull=False)
    }
    for task in Task.objects.filter(flow_task_type="HUMAN"):
        timer = timers[task.pk]
        assert timer.flow_task.name == f"{task.flow_task.name}__timeout"
        assert (timer.status == STATUS.SCHEDULED) == (task.status in ACTIVE)
        assert list(timer.previous.all()) == [task]
    # The task graph is linked as viewflow links it: each task but the start has one previous task.
    for task in Task.objects.filter(process__caseprocess__case_id__in=list(cases)[:20]).exclude(flow_task_type="START"):
        assert task.previous.count() == 1


def test_grants_are_those_sync_case_grants_computes(territory):
    def snapshot():
        return set(GroupObjectPermission.objects.values_list("group_id", "permission__codename", "object_pk"))

    history_before = {m: m.objects.count() for m in history_models()}
    before = snapshot()
    assert before
    with acting_as(system_actor(), "Vérification"):
        for case in Case.objects.select_related("household", "organisation", "designated_landlord"):
            sync_case_grants(case)
    assert snapshot() == before
    assert {m: m.objects.count() for m in history_models()} == history_before  # nothing rewritten


def test_every_audit_chain_verifies(territory):
    keys = all_chain_keys()
    assert len(keys) > N_CASES
    assert [str(b) for b in (verify_chain(k) for k in keys) if b] == []
    assert list(unchained_rows()) == []


def test_bench_users_get_scoped_lists(territory):
    total = Case.objects.count()
    for name in ("bench.ts", "bench.supervisor", "bench.commission", "bench.landlord"):
        visible = policy.queryset_for(user(name)).count()
        assert 0 < visible < total, name
    assert policy.queryset_for(user("bench.auditor")).count() == total
    assert task_queue_for(user("bench.landlord"))
    assert task_queue_for(user("bench.supervisor"))
    assert "bench.landlord" in territory and "bench-ppgdid-2026" in territory


def _commission_member_for(case):
    for candidate in get_user_model().objects.filter(memberships__role__in=COMMISSION_ROLES).distinct():
        if any(
            g.role in COMMISSION_ROLES and case.household.commune_id in g.commune_ids for g in memberships_of(candidate)
        ):
            return candidate
    raise AssertionError("no commission member covers the case")


def test_real_services_carry_a_generated_case_on(territory):
    from committees.models import Committee
    from committees.scripted import decide_in_writing

    committee = Committee.objects.get()  # the generated territory's partner committee
    case = (
        Case.objects.filter(
            status=choices.CaseStatus.DIAGNOSTIC,
            closed_at__isnull=True,
            household__commune__in=committee.communes.all(),
        )
        .order_by("pk")
        .first()
    )
    referent = case.referent
    case = services.diagnostic_complete(actor=referent, case=case, values={"urgency": choices.Urgency.HIGH})
    assert case.status == choices.CaseStatus.COMMITTEE
    assert _commission_member_for(case) is not None
    landlord = Case.objects.exclude(designated_landlord=None).first().designated_landlord
    # The committee decides (written procedure: every voting member answers, the secretary records it).
    decide_in_writing(
        committee=committee,
        case=case,
        values={
            "outcome": choices.CommitteeOutcome.LABELLED,
            "orientation": choices.Orientation.ORDINARY,
            "designated_landlord": landlord,
        },
    )
    case.refresh_from_db()
    assert case.status == choices.CaseStatus.PROPOSAL

    at_caleol = Case.objects.filter(status=choices.CaseStatus.CALEOL).order_by("pk").first()
    # The step may have been taken already: then only its owner may complete it.
    agent = services.active_task(at_caleol).owner or (
        get_user_model()
        .objects.filter(memberships__organisation=at_caleol.designated_landlord, memberships__role=Role.LANDLORD_AGENT)
        .first()
    )
    at_caleol = services.caleol_record(
        actor=agent,
        case=at_caleol,
        values={"decision": choices.CaleolDecisionType.ALLOCATED, "decided_on": date.today()},
    )
    assert at_caleol.status == choices.CaseStatus.REPLY
    for key in (f"case:{case.pk}", f"case:{at_caleol.pk}"):
        assert verify_chain(key) is None
