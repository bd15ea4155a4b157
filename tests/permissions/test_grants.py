import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission

from permissions import services as access_services
from permissions.grants import sync_case_grants
from permissions.queues import task_inbox_for, task_queue_for
from permissions.roles import Role
from tests.factories import member
from tests.workflows import steps
from workflows import services

pytestmark = pytest.mark.django_db


def grants(case):
    rows = GroupObjectPermission.objects.filter(object_pk=str(case.pk)).values_list(
        "group__name", "permission__codename"
    )
    return sorted(rows)


def nodes(tasks):
    return [t.flow_task.name for t in tasks]


def test_designation_and_orientation_give_the_partners_their_grants(world):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    landlord = f"org{world.landlord.pk}:{Role.LANDLORD_AGENT}"
    reservataire = f"org{world.reservataire.pk}:{Role.RESERVATAIRE_AGENT}"
    assert grants(case) == sorted([(landlord, "make_proposal"), (landlord, "view_case"), (reservataire, "view_case")])
    assert world.landlord_agent.has_perm("cases.make_proposal", case)
    assert not world.other_landlord_agent.has_perm("cases.make_proposal", case)
    assert nodes(task_queue_for(world.landlord_agent)) == ["proposal"]
    assert nodes(task_queue_for(world.other_landlord_agent)) == []


def test_closure_revokes_every_grant(world):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    services.case_close(actor=world.supervisor, case=case, reason="withdrawn", comment="Le ménage se désiste.")
    assert grants(case) == []
    assert list(task_queue_for(world.landlord_agent)) == []


def test_end_of_designation_revokes_the_landlord_grants(world):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    access_services.designation_end(actor=world.social_worker, case=case, reason="Le bailleur se retire")
    case.refresh_from_db()
    assert case.designated_landlord is None
    assert all(not name.startswith(f"org{world.landlord.pk}:") for name, _ in grants(case))
    assert list(task_queue_for(world.landlord_agent)) == []
    assert not world.landlord_agent.has_perm("cases.make_proposal", case)
    assert case.history.first().history_change_reason == "Le bailleur se retire"


def test_a_new_step_replaces_the_previous_grants(world):
    case = steps.diagnose(world, world.flag())
    names = {codename for _g, codename in grants(case)}
    assert names == {"review_in_committee"}
    case = steps.propose(world, steps.label(world, case))
    assert {codename for _g, codename in grants(case)} == {"record_caleol", "view_case"}


def test_sync_is_idempotent(world):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    before = grants(case)
    sync_case_grants(case)
    sync_case_grants(case)
    assert grants(case) == before


def test_a_sync_writes_only_the_delta_with_its_history_and_chain_entries(world):
    # One statement on PostgreSQL (audit.bulk.replace_group_grants), reads and bulk writes on SQLite: the
    # same rows either way. A group nobody held yet is created; the chain checks out.
    from django.contrib.auth.models import Group

    from audit.chain import verify_chain
    from audit.models import AuditEntry, chain_key

    case = steps.label(world, steps.diagnose(world, world.flag()))
    history = GroupObjectPermission.history.model
    Group.objects.filter(name=f"org{world.reservataire.pk}:{Role.RESERVATAIRE_AGENT}").delete()
    before = history.objects.filter(object_pk=str(case.pk)).count()
    entries = AuditEntry.objects.filter(chain=chain_key(case.pk)).count()
    kept = GroupObjectPermission.objects.get(object_pk=str(case.pk), permission__codename="make_proposal")
    sync_case_grants(case)
    rows = list(history.objects.filter(object_pk=str(case.pk)).order_by("history_id")[before:])
    assert [(r.history_type, r.permission.codename) for r in rows] == [("+", "view_case")]  # the group's row
    assert rows[0].group.name == f"org{world.reservataire.pk}:{Role.RESERVATAIRE_AGENT}"
    assert GroupObjectPermission.objects.filter(pk=kept.pk).exists()  # kept, not churned
    mark = before + len(rows)
    services.case_close(actor=world.supervisor, case=case, reason="withdrawn", comment="Le ménage se désiste.")
    gone = list(history.objects.filter(object_pk=str(case.pk)).order_by("history_id")[mark:])
    assert {r.history_type for r in gone} == {"-"}
    assert sorted(r.permission.codename for r in gone) == ["make_proposal", "view_case", "view_case"]
    assert AuditEntry.objects.filter(chain=chain_key(case.pk)).count() > entries + 3
    assert verify_chain(chain_key(case.pk)) is None


def test_task_queue_costs_the_same_queries_whatever_the_number_of_grants(world):
    def queue_queries(n_cases):
        for _ in range(n_cases):
            steps.label(world, steps.diagnose(world, world.flag()))
        user = type(world.landlord_agent).objects.get(pk=world.landlord_agent.pk)
        with CaptureQueriesContext(connection) as ctx:
            tasks = task_queue_for(user)
        return len(tasks), len(ctx.captured_queries)

    # Memberships (the role groups' names and the policy scope), the grant walk, the page's rows.
    assert queue_queries(6) == (6, 3)
    assert queue_queries(60) == (51, 3)  # a page of 50, plus one telling a next page exists


def test_inbox_lists_taken_steps_in_scope(world):
    case = steps.diagnose(world, world.flag())
    services.task_claim(actor=world.commission, case=case, node_name="committee")
    assert nodes(task_inbox_for(world.commission)) == ["committee"]
    assert nodes(task_queue_for(world.commission)) == []
    other = member(Role.COMMISSION_MEMBER, communes=["44109"])
    assert list(task_inbox_for(other)) == []
