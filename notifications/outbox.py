"""The transactional outbox: write notifications with the change, send them after the commit.

Guarantees:
- a notification exists iff the change that caused it committed (same transaction);
- an in-app notification is delivered by that commit (the notification centre reads the rows);
- an e-mail is enqueued at commit (`transaction.on_commit`); if the process dies between the commit
  and the enqueue, or the broker loses the message, the sweep re-queues the row;
- the send task claims the row (row lock, SKIP LOCKED) and counts the attempt in its own committed
  transaction, so a message that kills the worker is still counted; a claimed row is leased for
  `retry_delay(attempts)`: duplicate messages arriving meanwhile do nothing and do not count; an
  attempt whose lease is half spent before the hand-off (a starved worker) gives up and leaves the
  row to a later one rather than hand it off after another worker may have claimed it;
- it then sends OUTSIDE any transaction, and records the result in a new transaction (row lock,
  status re-checked, retried on connection loss): the row is recorded sent exactly once whatever the
  number of duplicate messages, and a lost connection after the hand-off does not re-send it; after
  MAX_ATTEMPTS the row is marked failed, with a reason, and shows in the admin.

Deadline reminders (REMINDER_TEMPLATES) are never one e-mail per step: a morning, or a territory whose
steps are all late, would send thousands at once. Their e-mail rows wait, pending, for
`send_reminders` (every minute), which sends each recipient one e-mail gathering them (a bounded number
per e-mail and of recipients per run: the rest on the next runs), with the same claim / send / record.

An SMTP hand-off cannot join a database transaction: if the worker dies after the SMTP server
accepted the message and before the commit, the e-mail is sent again. Both copies carry the same
Message-ID (derived from the idempotency key), so mail clients can recognise the duplicate.
"""

import hashlib
import logging
import os
import socket
import threading
import time
from datetime import timedelta
from functools import partial

from celery import current_app, shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Min, Q, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from cases import txmarks

from .models import MAX_ATTEMPTS, DeliveryLog, Notification, NotificationPreference

log = logging.getLogger("ppgdid.notifications")

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"

# The deadline reminders (the steps' timers, workflows/escalation.py, and the hourly scan's DALO offer
# warnings, workflows/scan.py, through notifications/events.py): e-mailed gathered per recipient by
# `send_reminders`, never one by one (neither at commit nor by the sweep). A scan over a territory warns
# about hundreds of DALO cases at once (6,086 e-mails for 651 cases in the load test).
REMINDER_TEMPLATES = frozenset(
    {"step_overdue", "step_escalated", "reply_due_soon", "dalo_deadline_soon", "dalo_deadline_passed"}
)


def retry_delay(attempts: int) -> timedelta:
    """How long a pending row waits before the sweep re-queues it (exponential, capped at 1 hour)."""
    base = settings.NOTIFICATIONS_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def case_path(case) -> str:
    """Where a notification about a case leads (the case page once the UI provides one)."""
    if case is None:
        return reverse("notifications:centre")
    for name in ("cases:detail", "workflows:case"):
        try:
            return reverse(name, args=[case.pk])
        except NoReverseMatch:
            continue
    return reverse("notifications:centre")


def notify(*, recipient, template: str, key: str, context: dict | None = None, case=None) -> list[Notification]:
    """Write one notification for one user: in-app, plus an e-mail if the user wants e-mails.

    Call inside the transaction of the change that causes it. `key` identifies the event for this
    recipient: calling again with the same key does nothing (scans can run any number of times).
    """
    return notify_all([recipient], template=template, key=lambda _user: key, context=context, case=case)


def notify_all(
    recipients, *, template: str, key, context: dict | None = None, case=None, scope=None
) -> list[Notification]:
    """`notify` for several users at once (`key(user)` names the event for each), in one statement
    whatever their number: an INSERT … SELECT of the in-app rows and, for the users who want e-mails
    (their preference read in the same statement), the e-mail rows, with ON CONFLICT DO NOTHING on the
    idempotency key instead of a read of the keys already written. `scope` (recipients.Audience.scope):
    the case policy's scope of each user, evaluated on the case row in the same statement, so that a
    user out of scope gets no row. Returns the rows written (ids, channel, status, digest and key only):
    an event already notified returns nothing. The e-mails of the call are published after the commit
    as one message (enqueue_many)."""
    events = {}
    for user in recipients:
        events.setdefault(key(user), user.pk)
    if not events:
        return []
    context = dict(context or {})
    if case is not None:
        context.setdefault("case_id", case.pk)
        context.setdefault("case_reference", case.reference)
        context.setdefault("path", case_path(case))
    new = _insert_notifications(
        events, template=template, context=context, case_id=getattr(case, "pk", None), scope=scope
    )
    if new and case is not None:
        txmarks.unmark({("step_notices_closed", case.pk)})  # new notices: close_step_notices must look again
    to_send = [row.pk for row in new if row.channel == Notification.Channel.EMAIL and not row.digest]
    if to_send and template not in REMINDER_TEMPLATES:  # reminders: send_reminders gathers them
        transaction.on_commit(partial(enqueue_many, to_send))
    return new


def _insert_notifications(events: dict, *, template: str, context: dict, case_id, scope=None) -> list[Notification]:
    """One INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING for {event key: user id} (PostgreSQL and
    SQLite alike). A concurrent writer of the same event keeps one row per key (the unique key), and
    only the rows this statement wrote come back, so an e-mail is enqueued by the writer of its row.
    With `scope` ((one-row case query of boolean columns, {user id: column})), a user whose column is
    false on the case row is left out: the policy's own SQL, read at the moment of the write."""
    now = timezone.now()
    ops = connection.ops
    table = Notification._meta.db_table
    users = get_user_model()._meta.db_table
    preferences = NotificationPreference._meta.db_table
    context_value = Notification._meta.get_field("context").get_db_prep_save(context, connection)
    at = ops.adapt_datetimefield_value(now)
    email_due = ops.adapt_datetimefield_value(now + retry_delay(1))
    column_of_user = scope[1] if scope is not None else {}
    values = ", ".join(["(%s, %s, %s)"] * len(events))
    value_params = [
        p for event_key, user_id in events.items() for p in (int(user_id), event_key, column_of_user.get(user_id, ""))
    ]
    if scope is None:
        audience, audience_params = "SELECT user_id, event_key FROM v", []
    else:
        # The case row with one boolean per distinct scope (the policy's Q, compiled by Django): a user
        # is kept when their scope's column is true. No column (no scope): nobody.
        case_sql, case_params = scope[0].query.sql_with_params()
        columns = sorted(set(column_of_user.values()))
        reach = " OR ".join(f"(v.scope = %s AND s.{connection.ops.quote_name(c)})" for c in columns) or "1 = 0"
        audience = f"SELECT v.user_id, v.event_key FROM v CROSS JOIN ({case_sql}) s WHERE {reach}"
        audience_params = [*case_params, *columns]
    mode = "COALESCE(p.email_mode, %s)"
    sql = f"""
        WITH v (user_id, event_key, scope) AS (VALUES {values}), r AS ({audience})
        INSERT INTO {table} (recipient_id, channel, template, context, case_id, idempotency_key, status, digest,
                             attempts, last_error, next_attempt_at, created_at, updated_at, sent_at)
        SELECT * FROM (
            SELECT u.id, %s, %s, %s, CAST(%s AS INTEGER), r.event_key || %s, %s, %s, 0, '', %s, %s, %s, %s
            FROM r INNER JOIN {users} u ON u.id = r.user_id
            UNION ALL
            SELECT u.id, %s, %s, %s, CAST(%s AS INTEGER), r.event_key || %s, %s, {mode} = %s, 0, '', %s, %s, %s, NULL
            FROM r INNER JOIN {users} u ON u.id = r.user_id LEFT JOIN {preferences} p ON p.user_id = u.id
            WHERE u.email <> '' AND u.is_active AND {mode} <> %s
        ) AS written WHERE 1 = 1
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, channel, status, digest, idempotency_key
    """
    immediate, digest, none = (
        NotificationPreference.EmailMode.IMMEDIATE,
        "digest",
        NotificationPreference.EmailMode.NONE,
    )
    channel, status = Notification.Channel, Notification.Status
    params = [
        *value_params,
        *audience_params,
        *(channel.IN_APP, template, context_value, case_id, ":in_app", status.SENT, False, at, at, at, at),
        *(channel.EMAIL, template, context_value, case_id, ":email", status.PENDING, immediate, digest),
        *(email_due, at, at, immediate, none),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Notification(pk=pk, channel=ch, status=st, digest=bool(dg), idempotency_key=k, template=template)
        for pk, ch, st, dg, k in rows
    ]


def close_step_notices(case_id: int, task_id: int | None = None) -> int:
    """The in-app notices about a step of the case (available, assigned, due, overdue: keyed
    `task:<id>:…`) have nothing left to ask once the step is done, whoever did it: mark them done (and
    read, so they leave the unread count). Without `task_id`, every step of the case (case closed).
    Call inside the transaction that finishes the step."""
    # Every step's notices closed already in this transaction (the case closed, then its last step
    # finished): no second UPDATE. The mark rolls back with the UPDATE (cases/txmarks.py).
    all_closed = ("step_notices_closed", case_id)
    if txmarks.marked(all_closed):
        return 0
    if task_id is None:
        txmarks.mark(all_closed)
    now = timezone.now()
    prefix = f"task:{task_id}:" if task_id is not None else "task:"
    return Notification.objects.filter(
        case_id=case_id, channel=Notification.Channel.IN_APP, done_at__isnull=True, idempotency_key__startswith=prefix
    ).update(done_at=now, read_at=Coalesce("read_at", Value(now)), updated_at=now)


@shared_task(name="notifications.send", ignore_result=True)
def send_notification(notification_id: int) -> str:
    return deliver(notification_id)


@shared_task(name="notifications.send_batch", ignore_result=True)
def send_batch(notification_ids: list[int]) -> int:
    """Queue each e-mail of one change (outbox.enqueue_many). Deliveries stay one task each, so a slow
    or failing address holds up no other; a batch redelivered after a crash is harmless, since
    delivery claims its row."""
    for pk in notification_ids:
        enqueue(pk)
    return len(notification_ids)


# How long a committing request waits for the broker (notifications/outbox.py publishes after commit).
PUBLISH_WAIT_SECONDS = 0.3


def _publish(task, args, what: str) -> None:
    """Publish a task without holding the caller more than PUBLISH_WAIT_SECONDS.

    The Redis client behind Celery retries a refused connection for several seconds whatever the
    publish options say (6-7 s measured): the publish runs in a daemon thread, the caller waits a
    bounded time and moves on. A failed or late publish is logged; the row is committed and pending,
    so the sweep re-queues it. Eager mode (demo, tests) runs the task in line, as before."""
    if current_app.conf.task_always_eager:
        try:
            task.apply_async(args)
        except Exception:
            log.exception("enqueue failed %s", what)
        return

    def publish():
        try:
            task.apply_async(args, retry=False)
        except Exception as exc:  # the row is committed and pending: the sweep re-queues it
            log.warning("enqueue failed %s: %s", what, type(exc).__name__)

    thread = threading.Thread(target=publish, daemon=True, name="outbox-publish")
    thread.start()
    thread.join(PUBLISH_WAIT_SECONDS)
    if thread.is_alive():
        log.warning("broker slow or down: %s left to the sweep", what)


def enqueue(notification_id: int) -> None:
    """Publish the send task. A broker failure is logged, not raised: the sweep will retry."""
    _publish(send_notification, (notification_id,), f"notification_id={notification_id}")


def enqueue_many(notification_ids: list[int]) -> None:
    """Publish the e-mails of one change as one message, which a worker fans out (tasks.send_batch):
    a step that tells forty people costs its transition one publish, not forty."""
    if len(notification_ids) == 1:
        return enqueue(notification_ids[0])
    _publish(send_batch, (notification_ids,), f"{len(notification_ids)} notifications")


def message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@ppgdid.notifications>"


def _base_context() -> dict:
    return {
        "base_url": settings.PPGDID_BASE_URL.rstrip("/"),
        "preferences_path": reverse("notifications:preferences"),
    }


def render(notification: Notification, channel: str | None = None) -> tuple[str, str]:
    """(subject, body) in French, from the notification's template and stored context."""
    context = dict(notification.context) | _base_context()
    context["channel"] = channel or notification.channel
    with translation.override("fr"):
        subject = render_to_string(f"notifications/messages/{notification.template}_subject.txt", context)
        body = render_to_string(f"notifications/messages/{notification.template}_body.txt", context)
    return " ".join(subject.split()), body.strip() + "\n"


def _send_email(notification: Notification, *, hand_off_before) -> bool:
    """Render and hand the e-mail to the mail backend. Not handed off (False) once `hand_off_before` has
    passed: the attempt's lease is half spent (a worker starved of CPU, a slow render), and another
    worker may claim the row when it ends; better a later attempt than two copies."""
    subject, body = render(notification)
    footer = render_to_string("notifications/messages/email_footer.txt", _base_context())
    message = EmailMultiAlternatives(
        subject=f"[Ménages prioritaires] {subject}",
        body=body + "\n" + footer,
        to=[notification.recipient.email],
        headers={"Message-ID": message_id(notification.idempotency_key)},
    )
    if timezone.now() >= hand_off_before:
        return False
    message.send(fail_silently=False)
    return True


def _claimable(notification_id: int) -> Notification | None:
    return Notification.objects.select_for_update(skip_locked=True).filter(pk=notification_id).first()


def deliver(notification_id: int) -> str:
    """Send one pending e-mail notification. Safe to call any number of times for the same id.

    Three steps, none of them holding a transaction across the SMTP hand-off:
    1. claim: a short transaction counts the attempt and leases the row (SKIP LOCKED);
    2. send: outside any transaction, with the notification's stable Message-ID;
    3. record: a new transaction marks the row sent (or the error), retried on connection loss, so
       a connection cut after the hand-off never leaves a sent e-mail pending (to be sent again).
    """
    now = timezone.now()
    with transaction.atomic():
        row = _claimable(notification_id)
        if row is None:
            return "busy-or-missing"  # another worker holds it, or it no longer exists
        if row.status != Notification.Status.PENDING or row.digest:
            return "nothing-to-do"
        if row.attempts and row.last_attempt_at + retry_delay(row.attempts) > now:
            return "leased"  # an attempt is under way or has just failed: the sweep brings it back
        if row.attempts >= MAX_ATTEMPTS:
            row.status = Notification.Status.FAILED
            # The last attempts ended without a word (the worker died with the message): say so.
            row.last_error = row.last_error or f"worker lost during each of {row.attempts} attempts"
            row.save(update_fields=["status", "last_error", "updated_at"])
            log.error("notification failed after %s attempts notification_id=%s", row.attempts, row.pk)
            return "failed"
        # Count the attempt before trying, in its own commit: a crash while sending still counts.
        row.attempts += 1
        row.last_attempt_at = now
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at", "updated_at"])
    row = Notification.objects.select_related("recipient").get(pk=notification_id)

    try:
        # Outside any transaction: nothing to roll back after the hand-off.
        if not _send_email(row, hand_off_before=now + retry_delay(row.attempts) / 2):
            log.warning("attempt left to the sweep, its lease half spent notification_id=%s", row.pk)
            return "lease-spent"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        _record(notification_id, sent=False, error=error)
        return "error"
    return "sent" if _record(notification_id, sent=True) else "done-meanwhile"


# Errors of a lost database connection: the record step reconnects and tries again, within the
# row's lease (retry_delay), so no other attempt can start meanwhile.
RECORD_RETRIES = 5


def _record(notification_id: int, *, sent: bool, error: str = "") -> bool:
    """Write the outcome of one attempt (`_record_rows`). True when this call marked it sent."""
    return _record_rows([notification_id], sent=sent, error=error) > 0


def _record_rows(notification_ids: list[int], *, sent: bool, error: str = "") -> int:
    """Write the outcome of one attempt for these rows (one e-mail) in a new transaction, retried
    (fresh connection, backing off 0.75 s in all, shorter than the smallest lease) while the database
    connection is lost. Returns how many rows this call marked sent. A database unreachable for longer
    leaves the rows pending: the attempt is sent again after its lease, with the same Message-ID
    (logged as an error here)."""
    for attempt in range(RECORD_RETRIES):
        try:
            with transaction.atomic():
                rows = Notification.objects.select_for_update().filter(
                    pk__in=notification_ids, status=Notification.Status.PENDING
                )
                marked = 0
                for row in rows.order_by("pk"):
                    if sent:
                        row.status = Notification.Status.SENT
                        row.sent_at = timezone.now()
                        row.save(update_fields=["status", "sent_at", "updated_at"])
                        DeliveryLog.objects.create(
                            notification=row, idempotency_key=row.idempotency_key, channel=row.channel, worker=WORKER_ID
                        )
                        marked += 1
                        continue
                    row.last_error = error
                    if row.attempts >= MAX_ATTEMPTS:
                        row.status = Notification.Status.FAILED
                        log.error("notification failed after %s attempts notification_id=%s", row.attempts, row.pk)
                    else:
                        log.warning("notification attempt %s failed notification_id=%s", row.attempts, row.pk)
                    row.save(update_fields=["last_error", "status", "updated_at"])
                return marked
        except (OperationalError, InterfaceError):
            if attempt == RECORD_RETRIES - 1:
                log.error("could not record the outcome notification_ids=%s sent=%s", notification_ids, sent)
                raise
            connection.close()  # the next query opens a fresh connection
            time.sleep(0.05 * 2**attempt)
    return 0


def queued_messages() -> int:
    """Messages waiting in the broker's queue (0 when eager or when the broker cannot tell)."""
    app = current_app
    if app.conf.task_always_eager:
        return 0
    try:
        with app.connection_for_write() as conn:
            # The e-mails' queue: their route (production: "emails"), else the default queue.
            queue = ((app.conf.task_routes or {}).get("notifications.send") or {}).get("queue")
            queue = queue or app.conf.task_default_queue
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:
        return 0


def sweep(limit: int | None = None) -> int:
    """Re-queue pending immediate e-mails whose message was lost or whose attempt failed.

    While the queue already holds `limit` messages the workers are behind, not missing anything:
    the sweep only tops the queue up to `limit`, and catches up once the backlog has drained.
    """
    limit = (limit or settings.NOTIFICATIONS_SWEEP_BATCH) - queued_messages()
    if limit <= 0:
        return 0
    now = timezone.now()
    due = list(
        Notification.objects.filter(
            status=Notification.Status.PENDING,
            channel=Notification.Channel.EMAIL,
            digest=False,
            next_attempt_at__lte=now,
        )
        .exclude(template__in=REMINDER_TEMPLATES)  # send_reminders' own (it retries them itself)
        .order_by("next_attempt_at")
        .values_list("pk", "attempts", "created_at")[:limit]
    )
    for pk, attempts, created_at in due:
        # Back off with the row's age too (up to 10 retry delays), so a long queue is not flooded
        # with copies of messages that are merely waiting their turn.
        age = min(now - created_at, 10 * retry_delay(1))
        wait = min(max(retry_delay(attempts + 1), age), timedelta(hours=1))
        Notification.objects.filter(pk=pk, status=Notification.Status.PENDING).update(next_attempt_at=now + wait)
        enqueue(pk)
    if due:
        log.info("sweep re-queued %s notifications", len(due))
    return len(due)


def send_digests(now=None) -> int:
    """One e-mail per user gathering their pending digest notifications. Returns e-mails sent."""
    now = now or timezone.now()
    recipients = (
        Notification.objects.filter(status=Notification.Status.PENDING, digest=True)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    sent = 0
    for recipient_id in list(recipients):
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(skip_locked=True)
                .select_related("recipient")
                .filter(recipient_id=recipient_id, status=Notification.Status.PENDING, digest=True)
                .order_by("created_at", "pk")
            )
            if not rows:
                continue
            try:
                items = [dict(zip(("subject", "body"), render(row), strict=True)) | {"row": row} for row in rows]
                body = render_to_string(
                    "notifications/messages/digest_body.txt",
                    {"items": items} | _base_context(),
                )
                footer = render_to_string("notifications/messages/email_footer.txt", _base_context())
                key = "digest:" + ",".join(str(row.pk) for row in rows)
                EmailMultiAlternatives(
                    subject=f"[Ménages prioritaires] Votre récapitulatif : {len(rows)} notification(s)",
                    body=body.strip() + "\n\n" + footer,
                    to=[rows[0].recipient.email],
                    headers={"Message-ID": message_id(key)},
                ).send(fail_silently=False)
            except Exception as exc:
                for row in rows:
                    row.attempts += 1
                    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    if row.attempts >= MAX_ATTEMPTS:
                        row.status = Notification.Status.FAILED
                    row.save(update_fields=["attempts", "last_error", "status", "updated_at"])
                log.warning("digest failed recipient_id=%s", recipient_id)
                continue
            for row in rows:
                row.attempts += 1
                row.status = Notification.Status.SENT
                row.sent_at = now
                row.save(update_fields=["attempts", "status", "sent_at", "updated_at"])
                DeliveryLog.objects.create(
                    notification=row, idempotency_key=row.idempotency_key, channel=row.channel, worker=WORKER_ID
                )
            sent += 1
    return sent


def _reminders_due(now):
    """Reminder e-mails waiting: never tried, or their last attempt's lease is over."""
    return Notification.objects.filter(
        status=Notification.Status.PENDING,
        channel=Notification.Channel.EMAIL,
        digest=False,
        template__in=REMINDER_TEMPLATES,
    ).filter(Q(attempts=0) | Q(next_attempt_at__lte=now))


def send_reminders(now=None, *, recipients: int | None = None, items: int | None = None) -> int:
    """One e-mail per recipient gathering their waiting deadline reminders, for at most `recipients`
    recipients (NOTIFICATIONS_REMINDER_RECIPIENTS; those waiting longest first) and `items` reminders
    per e-mail (NOTIFICATIONS_REMINDER_ITEMS; the oldest first). What is left waits, pending, for the
    next run. Returns the e-mails sent."""
    now = now or timezone.now()
    recipients = recipients or settings.NOTIFICATIONS_REMINDER_RECIPIENTS
    items = items or settings.NOTIFICATIONS_REMINDER_ITEMS
    waiting = (
        _reminders_due(now)
        .values("recipient_id")
        .annotate(since=Min("created_at"))
        .order_by("since", "recipient_id")
        .values_list("recipient_id", flat=True)[:recipients]
    )
    return sum(_deliver_reminders(recipient_id, now, items) == "sent" for recipient_id in list(waiting))


def _deliver_reminders(recipient_id: int, now, items: int) -> str:
    """`deliver` for one recipient's reminders: claim them (short transaction, SKIP LOCKED: another
    run's rows are left to it), send one e-mail outside any transaction, record each row's outcome."""
    with transaction.atomic():
        rows = list(
            _reminders_due(now)
            .filter(recipient_id=recipient_id)
            .select_for_update(skip_locked=True)
            .order_by("created_at", "pk")[:items]
        )
        spent = [row.pk for row in rows if row.attempts >= MAX_ATTEMPTS]
        if spent:  # the last attempts ended without a word (the worker died with them)
            Notification.objects.filter(pk__in=spent).update(
                status=Notification.Status.FAILED,
                last_error=f"worker lost during each of {MAX_ATTEMPTS} attempts",
                updated_at=now,
            )
            log.error("%s reminders failed after %s attempts recipient_id=%s", len(spent), MAX_ATTEMPTS, recipient_id)
        rows = [row for row in rows if row.attempts < MAX_ATTEMPTS]
        for row in rows:  # count the attempt before trying, in its own commit
            row.attempts += 1
            row.last_attempt_at = now
            row.next_attempt_at = now + retry_delay(row.attempts)
            row.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at", "updated_at"])
    if not rows:
        return "nothing-to-do"
    ids = [row.pk for row in rows]
    rows = list(Notification.objects.select_related("recipient").filter(pk__in=ids).order_by("created_at", "pk"))
    try:
        _send_reminders_email(rows)  # outside any transaction: nothing to roll back after the hand-off
    except Exception as exc:
        _record_rows(ids, sent=False, error=f"{type(exc).__name__}: {exc}"[:2000])
        return "error"
    return "sent" if _record_rows(ids, sent=True) else "done-meanwhile"


def _send_reminders_email(rows: list[Notification]) -> None:
    items = [dict(zip(("subject", "body"), render(row), strict=True)) for row in rows]
    body = render_to_string("notifications/messages/reminders_body.txt", {"items": items} | _base_context())
    footer = render_to_string("notifications/messages/email_footer.txt", _base_context())
    # Stable for the same rows: a re-send after a crash between send and record is recognisable.
    key = "reminders:" + ",".join(row.idempotency_key for row in rows)
    EmailMultiAlternatives(
        subject=f"[Ménages prioritaires] Échéances de vos dossiers : {len(rows)} rappel(s)",
        body=body.strip() + "\n\n" + footer,
        to=[rows[0].recipient.email],
        headers={"Message-ID": message_id(key)},
    ).send(fail_silently=False)
