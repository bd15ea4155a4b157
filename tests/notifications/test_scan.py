"""Deadlines, reminders and escalation, driven through the real services with a moving clock.

`tick()` is what beat runs: the hourly scan (DALO clocks, timer upkeep) and viewflow's timers.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from cases import choices
from cases.models import ClockPause, HouseholdReply
from cases.territory import StepTimeLimits
from notifications import services
from notifications.models import Notification
from permissions.roles import Role
from tests.factories import member
from tests.workflows import steps
from workflows import services as workflow_services
from workflows.queries import case_due_info
from workflows.scan import fire_timers, scan_deadlines

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def at(*args):
    return time_machine.travel(datetime(*args, 10, 0, tzinfo=PARIS), tick=False)


def tick():
    counts = scan_deadlines()
    fire_timers()
    return counts


def told(template):
    return sorted(
        Notification.objects.filter(channel="in_app", template=template).values_list("recipient__username", flat=True)
    )


def test_diagnostic_due_in_30_days_then_reminder_then_escalation(world):
    with at(2026, 9, 7):
        case = world.flag()
        assert case_due_info(case).due_date == date(2026, 10, 7)
    with at(2026, 10, 7):
        tick()
        assert told("step_overdue") == []
    with at(2026, 10, 8):
        info = case_due_info(case)
        assert (info.overdue, info.working_days_late) == (True, 1)
        tick()
        tick()  # idempotent
        # Unassigned step: everyone who may take it is reminded, the supervisor included.
        assert told("step_overdue") == ["encadrant", "ts", "ts2"]
        assert told("step_escalated") == []
    with at(2026, 10, 14):  # 5 working days late
        tick()
        assert told("step_escalated") == ["encadrant"]
        assert told("step_overdue") == ["encadrant", "ts", "ts2"]


def test_a_claimed_step_reminds_its_assignee_only(world):
    with at(2026, 9, 7):
        case = world.flag()
        workflow_services.task_claim(actor=world.colleague, case=case, node_name="diagnostic")
    with at(2026, 10, 9):
        tick()
    assert told("step_overdue") == ["ts2"]


def test_committee_step_escalates_to_the_commission_chair_of_the_territory(world):
    chair = member(Role.COMMISSION_CHAIR, world.state, communes=["83137"], username="president")
    with at(2026, 9, 7):
        case = steps.diagnose(world, world.flag())
    with at(2026, 10, 20):
        tick()
    assert "commission" in told("step_overdue")
    assert told("step_escalated") == [chair.username]
    assert case.pk


def test_territory_limits_and_working_days(world):
    StepTimeLimits.objects.create(departement="83", diagnostic_days=15)
    with at(2026, 12, 10):
        case = world.flag()
        # 10/12 + 15 days = 25/12 (Christmas) -> next working day, Monday 28/12.
        assert case_due_info(case).due_date == date(2026, 12, 28)


def test_pausing_the_clock_stops_reminders_and_pushes_the_due_date(world):
    with at(2026, 9, 7):
        case = world.flag()
    with at(2026, 9, 20):
        services.clock_pause(actor=world.social_worker, case=case, reason="document", comment="Avis d'imposition")
    with at(2026, 10, 12):
        assert case_due_info(case).paused
        tick()
        assert told("step_overdue") == []
    with at(2026, 10, 20):
        services.clock_resume(actor=world.supervisor, case=case)
        # Paused 30 days: due 7/10 + 30 days = 6/11.
        assert case_due_info(case).due_date == date(2026, 11, 6)
    pause = ClockPause.objects.get()
    history = list(
        pause.history.order_by("history_date").values_list("history_user__username", "history_change_reason")
    )
    assert history == [("ts", "Suspension du délai"), ("encadrant", "Reprise du délai")]


def test_only_people_acting_on_the_case_may_pause_it(world):
    case = world.flag()
    with pytest.raises(PermissionDenied):
        services.clock_pause(actor=world.landlord_agent, case=case, reason="household")
    with pytest.raises(PermissionDenied):
        services.clock_pause(actor=world.auditor, case=case, reason="household")  # sees, does not act
    with pytest.raises(ValidationError):
        services.clock_pause(actor=world.social_worker, case=case, reason="bogus")
    services.clock_pause(actor=world.social_worker, case=case, reason="household")
    with pytest.raises(ValidationError):
        services.clock_pause(actor=world.social_worker, case=case, reason="household")


def _to_reply_step(world, case=None):
    case = case or world.flag()
    return steps.allocate(world, steps.propose(world, steps.label(world, steps.diagnose(world, case))))


def test_reply_reminder_two_working_days_before_then_silence_is_a_refusal(world):
    with at(2026, 11, 2):
        case = _to_reply_step(world)  # notified 2/11, reply deadline 12/11
        assert case_due_info(case).due_date == date(2026, 11, 12)
    with at(2026, 11, 6):  # Friday: 3 working days left (11/11 is a holiday)
        tick()
        assert told("reply_due_soon") == []
    with at(2026, 11, 9):
        tick()
        assert told("reply_due_soon") == ["bailleur", "ts", "ts2"]
    with at(2026, 11, 12):
        tick()
        assert not HouseholdReply.objects.exists()
    with at(2026, 11, 13):
        tick()
        tick()
    reply = HouseholdReply.objects.get()
    assert (reply.answer, reply.refusal_motive, reply.replied_on) == ("no_reply", "no_reply", date(2026, 11, 13))
    record = reply.history.get()
    assert record.history_user.username == "systeme"
    assert record.history_change_reason == "Silence du ménage après le délai : vaut refus"
    case.refresh_from_db()
    assert (case.status, case.refusal_count) == (choices.CaseStatus.PROPOSAL, 1)
    assert told("reply_no_answer") == ["bailleur", "encadrant", "ts"]


def test_registered_letter_reply_clock_starts_at_delivery(world):
    with at(2026, 11, 2):
        case = _to_reply_step(world)
        proposal = case.proposals.get()
        services.offer_delivery_record(actor=world.landlord_agent, proposal=proposal, registered_letter=True)
        info = case_due_info(case)
        assert (info.due_date, info.waiting_delivery) == (None, True)
    with at(2026, 11, 20):
        tick()
        assert not HouseholdReply.objects.exists()  # never a refusal before the letter arrived
        services.offer_delivery_record(
            actor=world.landlord_agent, proposal=proposal, registered_letter=True, delivered_on=date(2026, 11, 5)
        )
        assert case_due_info(case).due_date == date(2026, 11, 16)  # 15/11 is a Sunday
        with pytest.raises(PermissionDenied):
            services.offer_delivery_record(actor=world.other_landlord_agent, proposal=proposal, registered_letter=False)


def test_only_the_system_actor_may_act_without_the_grant(world):
    with at(2026, 11, 2):
        case = _to_reply_step(world)
    with pytest.raises(PermissionDenied):
        workflow_services.reply_record(
            actor=world.other_landlord_agent,
            case=case,
            values={"answer": "no_reply", "replied_on": date(2026, 11, 20)},
            as_system=True,
        )
    assert not HouseholdReply.objects.exists()


def test_dalo_offer_deadline_warnings_at_30_and_7_days_then_passed(world):
    with at(2026, 9, 7):
        case = world.flag(is_dalo=True)
    assert case.dalo_offer_deadline == date(2027, 3, 1)  # 6 months in the Var (R441-16-1 CCH)
    with at(2027, 1, 29):
        tick()
        assert told("dalo_deadline_soon") == []
    with at(2027, 1, 30):
        tick()
        assert told("dalo_deadline_soon") == ["encadrant", "ts"]
    with at(2027, 2, 22):
        tick()
        tick()
        days = sorted(
            Notification.objects.filter(template="dalo_deadline_soon").values_list("context__days", flat=True)
        )
    assert sorted(set(days)) == [7, 30]
    with at(2027, 3, 2):
        tick()
    assert told("dalo_deadline_passed") == ["encadrant", "ts"]


def test_demo_helper_makes_steps_overdue_and_escalates(world):
    from notifications.demo import make_demo_overdue

    case = world.flag()
    result = make_demo_overdue([case], days=45)
    assert result["steps_aged"] == 1
    assert case_due_info(case).overdue
    assert told("step_escalated") == ["encadrant"]
