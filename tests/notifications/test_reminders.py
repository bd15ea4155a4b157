"""Bounded sweeps: a burst of overdue steps is neither a burst of work nor a burst of e-mails.

Steps made overdue through the real flow (case_flag, then the clock moved past the due date), fired by
the real timers, e-mailed through Django's test mail backend (`mail.outbox`: the e-mails really sent).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from viewflow.workflow.models import Task

from notifications import outbox
from notifications.models import DeliveryLog, Notification
from workflows.scan import fire_timers, scan_deadlines

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
STEPS = 7


def at(*args, hour=10, minute=0):
    return time_machine.travel(datetime(*args, hour, minute, tzinfo=PARIS), tick=False)


def reminders(status=None, **filters):
    rows = Notification.objects.filter(channel="email", template="step_overdue", **filters)
    return rows.filter(status=status) if status else rows


@pytest.fixture
def overdue(world):
    """STEPS diagnostics flagged on 7/9, due 7/10: each overdue on 8/10 for ts, ts2 and encadrant."""
    with at(2026, 9, 7):
        return [world.flag() for _ in range(STEPS)]


def test_timers_fire_in_bounded_batches_and_the_rest_on_the_next_runs(overdue):
    with at(2026, 10, 8, hour=7):
        assert fire_timers(limit=4)[0] == 4
        assert reminders().values("case").distinct().count() == 4
        assert fire_timers(limit=4)[0] == STEPS - 4  # the rest, a minute later
        assert fire_timers(limit=4)[0] == 0
    assert reminders().values("case").distinct().count() == STEPS


def test_overdue_steps_of_one_recipient_go_out_gathered_in_bounded_emails_and_none_is_lost(
    overdue, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_REMINDER_ITEMS = 3
    with at(2026, 10, 8, hour=7), django_capture_on_commit_callbacks(execute=True):
        fire_timers()
    # Nothing sent one by one at commit, nor re-queued one by one by the sweep.
    assert mail.outbox == []
    assert reminders("pending", recipient__username="ts").count() == STEPS
    with at(2026, 10, 8, hour=7, minute=30):
        outbox.sweep()  # sends the flagging's own e-mails (task_available, left pending by the fixture)
        assert not [m for m in mail.outbox if "En retard" in m.body or "retard" in m.subject]
        assert reminders("pending").count() == 3 * STEPS
        mail.outbox.clear()
        runs = [outbox.send_reminders() for _ in range(4)]
    # 3 recipients (ts, ts2, encadrant), 7 reminders each, 3 per e-mail: 3 runs of 3 e-mails, then nothing.
    assert runs == [3, 3, 3, 0]
    assert len(mail.outbox) == 9  # instead of 21
    to_ts = [m for m in mail.outbox if m.to == ["ts@example.org"]]
    assert [m.subject for m in to_ts] == [
        "[Ménages prioritaires] Échéances de vos dossiers : 3 rappel(s)",
        "[Ménages prioritaires] Échéances de vos dossiers : 3 rappel(s)",
        "[Ménages prioritaires] Échéances de vos dossiers : 1 rappel(s)",
    ]
    # Every overdue step is in exactly one of the recipient's e-mails, with its link.
    body = "".join(m.body for m in to_ts)
    for case in overdue:
        assert body.count(f"dossier {case.reference}") == 2  # the item's subject and its text
        assert body.count(outbox.case_path(case) + "\n") == 1
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 9
    assert reminders("pending").count() == 0
    logged = DeliveryLog.objects.filter(idempotency_key__contains=":overdue:").count()
    assert reminders("sent").count() == 3 * STEPS == logged


def test_recipients_per_run_are_bounded_and_those_waiting_longest_go_first(overdue, settings):
    with at(2026, 10, 8, hour=7):
        fire_timers()
    with at(2026, 10, 8, hour=7, minute=1):
        assert outbox.send_reminders(recipients=2) == 2
        assert outbox.send_reminders(recipients=2) == 1
        assert outbox.send_reminders(recipients=2) == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["encadrant@example.org", "ts2@example.org", "ts@example.org"]


def test_a_failed_send_is_retried_after_its_lease_and_then_sent_once(overdue, settings):
    with at(2026, 10, 8, hour=7):
        fire_timers()
        settings.EMAIL_BACKEND = "tests.notifications.test_reminders.RefusingBackend"
        assert outbox.send_reminders() == 0
    row = reminders(recipient__username="ts").first()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ConnectionRefusedError: refused")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with at(2026, 10, 8, hour=7, minute=0):
        assert outbox.send_reminders() == 0  # leased: retry_delay(1) later
    with at(2026, 10, 8, hour=7, minute=2):
        assert outbox.send_reminders() == 3
        assert outbox.send_reminders() == 0
    assert len(mail.outbox) == 3
    assert reminders("sent").count() == 3 * STEPS


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("refused")


def test_the_scan_moves_a_bounded_number_of_timers_per_run(overdue, settings):
    settings.PPGDID_SCAN_BATCH = 5
    # The diagnostics' timers look on 8/10; a shorter territory limit makes them all due now.
    from cases.territory import StepTimeLimits

    StepTimeLimits.objects.create(departement="83", diagnostic_days=15)
    with at(2026, 9, 23, hour=8):
        assert scan_deadlines() == {"timers_moved_earlier": 5, "left_for_next_run": 1}
        assert scan_deadlines() == {"timers_moved_earlier": STEPS - 5}
        assert scan_deadlines() == {}
        due = Task.objects.filter(flow_task_type="TIMER", status="SCHEDULED", scheduled__lte=datetime.now(PARIS))
        assert due.count() == STEPS


def test_the_scans_dalo_warnings_go_out_gathered_too(world, django_capture_on_commit_callbacks):
    with at(2026, 9, 7):
        cases = [world.flag(is_dalo=True) for _ in range(3)]  # offer deadline 1/3/2027
    mail.outbox.clear()
    with at(2027, 1, 30), django_capture_on_commit_callbacks(execute=True):
        assert scan_deadlines()["dalo_warnings"] == 3
    assert mail.outbox == []  # not one e-mail per case and person
    with at(2027, 1, 30, minute=1):
        assert outbox.send_reminders() == 2  # encadrant and ts
    assert sorted(m.to[0] for m in mail.outbox) == ["encadrant@example.org", "ts@example.org"]
    for message in mail.outbox:
        assert all(f"dossier {case.reference}" in message.body for case in cases)
    rows = Notification.objects.filter(channel="email", template="dalo_deadline_soon")
    assert rows.count() == 6 == rows.filter(status="sent").count()
