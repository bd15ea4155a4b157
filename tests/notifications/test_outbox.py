from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from notifications import outbox
from notifications.models import MAX_ATTEMPTS, DeliveryLog, Notification, NotificationPreference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make(user, key="evt:1", template="task_available", **context):
    return outbox.notify(
        recipient=user, template=template, key=key, context={"step": "Diagnostic social", "due": "", **context}
    )


def test_one_event_gives_an_in_app_row_delivered_at_once_and_a_pending_email():
    user = UserFactory()
    rows = make(user)
    assert sorted((r.channel, r.status) for r in rows) == [("email", "pending"), ("in_app", "sent")]


def test_the_same_event_twice_is_written_once():
    user = UserFactory()
    make(user)
    assert make(user) == []
    assert Notification.objects.count() == 2


def test_email_is_sent_after_commit_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        make(user)
    email = Notification.objects.get(channel="email")
    assert (email.status, email.attempts) == ("sent", 1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "Une étape vous attend" in message.subject
    assert message.extra_headers["Message-ID"] == outbox.message_id(email.idempotency_key)
    # Duplicate messages (broker redelivery, sweep) change nothing.
    assert outbox.deliver(email.pk) == "nothing-to-do"
    assert len(mail.outbox) == 1
    assert DeliveryLog.objects.filter(idempotency_key=email.idempotency_key).count() == 1


def test_nothing_is_written_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    from django.db import transaction

    user = UserFactory()

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom), transaction.atomic():
        make(user)
        raise Boom
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_no_email_without_address_or_when_the_user_wants_none():
    no_address = UserFactory(email="")
    quiet = UserFactory()
    NotificationPreference.objects.create(user=quiet, email_mode="none")
    make(no_address, key="a")
    make(quiet, key="b")
    assert set(Notification.objects.values_list("channel", flat=True)) == {"in_app"}


@override_settings(NOTIFICATIONS_RETRY_SECONDS=10)
def test_poison_message_stops_after_five_attempts_and_is_marked_failed():
    user = UserFactory()
    make(user, template="does_not_exist")
    email = Notification.objects.get(channel="email")
    results = []
    for _ in range(MAX_ATTEMPTS + 1):
        results.append(outbox.deliver(email.pk))
        results.append(outbox.deliver(email.pk))  # a duplicate message during the lease: not an attempt
        Notification.objects.filter(pk=email.pk).update(last_attempt_at=timezone.now() - timedelta(hours=2))
    email.refresh_from_db()
    assert results == ["error", "leased"] * (MAX_ATTEMPTS - 1) + ["error"] + ["nothing-to-do"] * 3
    assert (email.status, email.attempts) == ("failed", MAX_ATTEMPTS)
    assert "TemplateDoesNotExist" in email.last_error
    assert mail.outbox == []


def test_an_attempt_whose_lease_is_half_spent_before_the_hand_off_leaves_the_row_to_a_later_one():
    """A worker starved between its claim and the hand-off must not send after another worker may have
    claimed the row (lease over): it gives up, the row stays pending, the next attempt sends it once."""
    user = UserFactory()
    make(user)
    email = Notification.objects.get(channel="email")
    with override_settings(NOTIFICATIONS_RETRY_SECONDS=0):  # a lease of 0 s: spent before any hand-off
        assert outbox.deliver(email.pk) == "lease-spent"
    email.refresh_from_db()
    assert (email.status, email.attempts, mail.outbox) == ("pending", 1, [])
    Notification.objects.filter(pk=email.pk).update(last_attempt_at=timezone.now() - timedelta(seconds=11))
    with override_settings(NOTIFICATIONS_RETRY_SECONDS=10):
        assert outbox.deliver(email.pk) == "sent"
    assert len(mail.outbox) == 1


@override_settings(NOTIFICATIONS_RETRY_SECONDS=10)
def test_sweep_requeues_pending_rows_whose_message_was_lost():
    """Crash between commit and enqueue: the row is pending and no message exists."""
    user = UserFactory()
    make(user)  # no on_commit execution: the enqueue never happened
    email = Notification.objects.get(channel="email")
    assert outbox.sweep() == 0  # not yet due: the on_commit enqueue may still be on its way
    Notification.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox.sweep() == 1  # eager in tests: delivered in-process
    email.refresh_from_db()
    assert email.status == "sent"
    assert len(mail.outbox) == 1
    assert outbox.sweep() == 0


def test_retry_delay_doubles_and_is_capped():
    with override_settings(NOTIFICATIONS_RETRY_SECONDS=60):
        assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 10)] == [60, 120, 240, 3600]


def test_enqueue_failure_is_logged_not_raised(monkeypatch, caplog):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(outbox.send_notification, "apply_async", broker_down)
    outbox.enqueue(123)
    assert "enqueue failed notification_id=123" in caplog.text


def test_the_emails_of_one_change_are_published_as_one_batch(monkeypatch, django_capture_on_commit_callbacks):
    users = [UserFactory() for _ in range(3)]
    published = []
    real_publish = outbox.send_batch.apply_async
    monkeypatch.setattr(
        outbox.send_batch, "apply_async", lambda args, **kw: published.append(args[0]) or real_publish(args, **kw)
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbox.notify_all(users, template="task_available", key=lambda u: f"evt:{u.pk}", context={"step": "X"})
    emails = Notification.objects.filter(channel="email")
    assert len(published) == 1 and sorted(published[0]) == sorted(emails.values_list("pk", flat=True))
    # The worker fans the batch out: every e-mail delivered once, each by its own task.
    assert set(emails.values_list("status", "attempts")) == {("sent", 1)}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)


def test_digest_gathers_pending_emails_in_one_message(django_capture_on_commit_callbacks):
    user = UserFactory()
    NotificationPreference.objects.create(user=user, email_mode="digest")
    with django_capture_on_commit_callbacks(execute=True):
        make(user, key="a")
        make(user, key="b", template="reply_due_soon")
    assert mail.outbox == []
    assert outbox.sweep() == 0  # digest rows are not the sweep's business
    assert outbox.send_digests() == 1
    assert len(mail.outbox) == 1
    assert "2 notification(s)" in mail.outbox[0].subject
    assert "Une étape vous attend" in mail.outbox[0].body
    assert set(Notification.objects.filter(channel="email").values_list("status", flat=True)) == {"sent"}
    assert outbox.send_digests() == 0


def test_tick_command_runs_the_periodic_jobs(world):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("notifications_tick", "--digest", stdout=out)
    assert "deadline scan" in out.getvalue() and "digests sent: 0" in out.getvalue()


def test_celery_tasks_run_eagerly_by_id(django_capture_on_commit_callbacks):
    from notifications import tasks
    from workflows import tasks as workflow_tasks

    user = UserFactory()
    make(user)
    email = Notification.objects.get(channel="email")
    assert outbox.send_notification.delay(email.pk).get() == "sent"
    assert outbox.send_notification.delay(email.pk).get() == "nothing-to-do"
    assert tasks.sweep_outbox.delay().get() == 0
    assert tasks.daily_digest.delay().get() == 0
    assert workflow_tasks.scan_deadlines.delay().get() == {}
    assert workflow_tasks.fire_workflow_timers.delay().get() == (0, 0, 0)


def test_beat_schedule_names_existing_tasks():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
