"""The due dates of a list of steps cost a fixed number of queries, however many reply steps it holds (each
reply deadline reads its département's settings: once per list, cases.deadlines.settings_preloaded)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Task

from tests.factories import DwellingFactory
from workflows.deadlines import due_infos

from . import steps

pytestmark = pytest.mark.django_db


def at_reply(world, n):
    for _ in range(n):
        case = world.flag()
        steps.diagnose(world, case)
        steps.label(world, case)
        steps.propose(world, case, dwelling=DwellingFactory(landlord=world.landlord))
        steps.allocate(world, case)


def reply_tasks():
    return list(
        Task.objects.filter(flow_task__endswith=".reply", finished__isnull=True).select_related(
            "process__caseprocess__case__household"
        )
    )


def queries_of_due_infos():
    tasks = reply_tasks()
    with CaptureQueriesContext(connection) as captured:
        infos = due_infos(tasks)
    assert len(infos) == len(tasks) and all(info.due_date for info in infos.values())
    return len(tasks), len(captured)


def test_reply_deadlines_of_a_list_read_the_settings_once(world):
    at_reply(world, 2)
    two = queries_of_due_infos()
    at_reply(world, 3)
    five = queries_of_due_infos()
    assert (two[0], five[0]) == (2, 5)
    assert five[1] == two[1], (two, five)
