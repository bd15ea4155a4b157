"""Celery tasks. They take ids, are idempotent, and call the same code as the management commands."""

from celery import shared_task

from . import outbox


@shared_task(name="notifications.send", ignore_result=True)
def send_notification(notification_id: int) -> str:
    return outbox.deliver(notification_id)


@shared_task(name="notifications.send_batch", ignore_result=True)
def send_batch(notification_ids: list[int]) -> int:
    """Queue each e-mail of one change (outbox.enqueue_many). Deliveries stay one task each, so a slow
    or failing address holds up no other; a batch redelivered after a crash is harmless, since
    delivery claims its row."""
    for pk in notification_ids:
        outbox.enqueue(pk)
    return len(notification_ids)


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep_outbox() -> int:
    return outbox.sweep()


@shared_task(name="notifications.daily_digest", ignore_result=True)
def daily_digest() -> int:
    return outbox.send_digests()


# Hourly; ~5 ms per open step when nothing is to be done, ~40 ms per step it arms (steps written
# outside the flow engine): longer limits than the default so a large first run is not cut short.
@shared_task(name="notifications.scan_deadlines", ignore_result=True, soft_time_limit=1500, time_limit=1620)
def scan_deadlines() -> dict:
    """Hourly safety net: DALO offer clocks, deadline timers armed and kept no later than due."""
    from .scan import scan_deadlines as run

    return run()


# Longer limits than the default 60/90 s: timers fall due together at 07:00 and one look costs ~90 ms
# (~70 queries, notifications included), so a morning with a few thousand due steps takes minutes.
# Each timer commits on its own, and viewflow re-checks each under its flow lock, so a run cut short
# or overlapping the next minute's run neither loses nor repeats a look.
@shared_task(name="notifications.fire_workflow_timers", ignore_result=True, soft_time_limit=540, time_limit=600)
def fire_workflow_timers() -> tuple:
    """viewflow's database-backed timers: the steps' deadline timers (.OnTimeout, flow.Timer) send the
    reminders and escalations and record silence worth refusal. One beat instance only."""
    from .scan import fire_timers

    return fire_timers()
