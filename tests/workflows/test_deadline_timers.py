"""The steps' deadline timers: viewflow's database-backed timers, fired as beat fires them.

Only `fire_due_timers()` runs in these tests (never the hourly scan, unless the test is about it), so
what is sent is sent by the timers.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from viewflow.workflow.models import Task
from viewflow.workflow.timers import fire_due_timers

from cases import choices
from cases.models import HouseholdReply
from notifications import services as clock
from notifications.models import Notification
from tests.workflows import steps
from workflows import services
from workflows.scan import scan_deadlines

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def at(*args, hour=10):
    return time_machine.travel(datetime(*args, hour, 0, tzinfo=PARIS), tick=False)


def told(template):
    return sorted(
        Notification.objects.filter(channel="in_app", template=template).values_list("recipient__username", flat=True)
    )


def scheduled(case):
    """{node name: local moment} of the case's pending timers."""
    return {
        t.flow_task.name: t.scheduled.astimezone(PARIS).replace(tzinfo=None)
        for t in Task.objects.filter(process__caseprocess__case=case, status="SCHEDULED")
    }


def test_a_step_is_armed_for_the_morning_after_its_due_date_then_reminds_once_then_escalates(world):
    with at(2026, 9, 7):
        case = world.flag()
    # Due 7/10 (30 days): the first look is on 8/10 at 07:00.
    assert scheduled(case) == {"diagnostic__timeout": datetime(2026, 10, 8, 7, 0)}
    with at(2026, 10, 7, hour=23):
        assert fire_due_timers() == 0
    with at(2026, 10, 8, hour=7):
        assert fire_due_timers() == 1
        assert fire_due_timers() == 0
        assert told("step_overdue") == ["encadrant", "ts", "ts2"]
        assert told("step_escalated") == []
    # 5 working days late on 14/10: the branch waits until then.
    assert scheduled(case) == {"watch_wait": datetime(2026, 10, 14, 7, 0)}
    with at(2026, 10, 13):
        assert fire_due_timers() == 0
    with at(2026, 10, 14, hour=8):
        assert fire_due_timers() == 1
    assert told("step_escalated") == ["encadrant"]
    assert told("step_overdue") == ["encadrant", "ts", "ts2"]  # exactly once each
    # Nothing left to do for this step: the branch stopped, without an End and with the step open.
    assert scheduled(case) == {}
    with at(2026, 10, 20):
        assert scan_deadlines() == {}  # the safety net does not arm a step whose branch stopped
    assert scheduled(case) == {}
    assert Task.objects.filter(process__caseprocess__case=case, flow_task_type="END").count() == 0
    assert services.active_task(case).flow_task.name == "diagnostic"
    case.processes.get().refresh_from_db()
    assert case.processes.get().status == "NEW"


def test_a_paused_clock_makes_the_timer_look_send_nothing_and_look_again(world):
    with at(2026, 9, 7):
        case = world.flag()
    with at(2026, 9, 20):
        clock.clock_pause(actor=world.social_worker, case=case, reason="document")
    with at(2026, 10, 8, hour=7):
        assert fire_due_timers() == 1
    assert told("step_overdue") == []
    assert scheduled(case) == {"watch_wait": datetime(2026, 10, 9, 7, 0)}  # re-armed for tomorrow
    with at(2026, 10, 20):
        assert fire_due_timers() == 1  # still paused: nothing sent, tomorrow again
        clock.clock_resume(actor=world.supervisor, case=case)
    assert told("step_overdue") == []
    # Paused 30 days: due 6/11. The next look (21/10) finds nothing due and waits for 7/11.
    with at(2026, 10, 21, hour=7):
        assert fire_due_timers() == 1
    assert scheduled(case) == {"watch_wait": datetime(2026, 11, 7, 7, 0)}
    with at(2026, 11, 7, hour=7):
        assert fire_due_timers() == 1
    assert told("step_overdue") == ["encadrant", "ts", "ts2"]


def test_household_silence_is_recorded_as_a_refusal_by_the_system_actor(world):
    with at(2026, 11, 2):
        case = steps.allocate(world, steps.propose(world, steps.label(world, steps.diagnose(world, world.flag()))))
    # Reply due 12/11 (11/11 is a holiday): reminder from 9/11 (2 working days before), refusal on 13/11.
    assert scheduled(case) == {"reply__timeout": datetime(2026, 11, 9, 7, 0)}
    with at(2026, 11, 9, hour=7):
        fire_due_timers()
    assert told("reply_due_soon") == ["bailleur", "ts", "ts2"]
    assert scheduled(case) == {"watch_wait": datetime(2026, 11, 13, 7, 0)}
    with at(2026, 11, 13, hour=7):
        fire_due_timers()
        fire_due_timers()
    reply = HouseholdReply.objects.get()
    assert (reply.answer, reply.replied_on) == ("no_reply", date(2026, 11, 13))
    record = reply.history.get()
    assert (record.history_user.username, record.history_change_reason) == (
        "systeme",
        "Silence du ménage après le délai : vaut refus",
    )
    case.refresh_from_db()
    assert (case.status, case.refusal_count) == (choices.CaseStatus.PROPOSAL, 1)
    assert told("reply_no_answer") == ["bailleur", "encadrant", "ts"]
    # The reply step finished inside the timer's branch; the next step has its own timer only.
    assert list(scheduled(case)) == ["proposal__timeout"]


def test_finishing_steps_leaves_no_pending_timer_and_the_process_ends_rehoused(world):
    with at(2026, 9, 7):
        case = world.flag()
    with at(2026, 10, 8, hour=7):
        fire_due_timers()  # the diagnostic is late: its branch now waits on a watch_wait timer
    assert list(scheduled(case)) == ["watch_wait"]
    with at(2026, 11, 2):
        case = steps.diagnose(world, case)
        assert list(scheduled(case)) == ["committee__timeout"]  # the wait was cancelled with its step
        case = steps.allocate(world, steps.propose(world, steps.label(world, case)))
        case = steps.sign(world, steps.accept(world, case))
    process = case.processes.get()
    process.refresh_from_db()
    assert (process.status, case.status) == ("DONE", choices.CaseStatus.CLOSED)
    assert process.task_set.get(flow_task_type="END").flow_task.name == "rehoused"
    assert scheduled(case) == {}
    timers = Task.objects.filter(process=process, flow_task_type="TIMER")
    assert set(timers.values_list("status", flat=True)) == {"DONE", "CANCELED"}
    assert process.task_set.filter(finished__isnull=True).count() == 0


def test_closing_a_case_cancels_its_timers(world):
    case = world.flag()
    services.case_close(actor=world.supervisor, case=case, reason=choices.ClosureReason.values[0], comment="Test")
    assert scheduled(case) == {}
    assert case.processes.get().status == "CANCELED"


def test_a_step_without_its_timer_row_is_armed_by_the_scan(world):
    """Rows written outside the flow engine (generated data, steps opened before the timers existed)."""
    with at(2026, 9, 7):
        case = world.flag()
        Task.objects.filter(process__caseprocess__case=case, flow_task_type="TIMER").delete()
        assert scheduled(case) == {}
    with at(2026, 10, 8, hour=7):
        assert fire_due_timers() == 0  # nothing to fire, nothing breaks
        assert scan_deadlines() == {"timers_armed": 1}
        assert scan_deadlines() == {}  # armed once
        fire_due_timers()
    assert told("step_overdue") == ["encadrant", "ts", "ts2"]


def test_the_scan_pulls_a_timer_forward_when_the_due_date_moves_earlier(world):
    from cases.territory import StepTimeLimits

    with at(2026, 9, 7):
        case = world.flag()
    StepTimeLimits.objects.create(departement="83", diagnostic_days=15)
    with at(2026, 9, 23, hour=8):
        assert fire_due_timers() == 0
        assert scheduled(case) == {"diagnostic__timeout": datetime(2026, 10, 8, 7, 0)}  # the old limit
        assert scan_deadlines() == {"timers_moved_earlier": 1}
        assert scheduled(case) == {"diagnostic__timeout": datetime(2026, 9, 23, 8, 0)}  # overdue: now
        assert fire_due_timers() == 1
    assert told("step_overdue") == ["encadrant", "ts", "ts2"]


def test_demo_overdue_steps_are_escalated_by_the_timers_and_stay_quiet_afterwards(world):
    from notifications.demo import make_demo_overdue

    case = world.flag()
    result = make_demo_overdue([case], days=45)
    assert (result["steps_aged"], result["scan"], result["timers_fired"]) == (1, {"timers_moved_earlier": 1}, 1)
    assert told("step_escalated") == ["encadrant"]
    assert scan_deadlines() == {}
    assert fire_due_timers() == 0
