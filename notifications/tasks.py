"""Celery tasks. They take ids, are idempotent, and call the same code as the management commands."""

from celery import shared_task

from . import outbox


@shared_task(name="notifications.send", ignore_result=True)
def send_notification(notification_id: int) -> str:
    return outbox.deliver(notification_id)


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep_outbox() -> int:
    return outbox.sweep()


@shared_task(name="notifications.daily_digest", ignore_result=True)
def daily_digest() -> int:
    return outbox.send_digests()


@shared_task(name="notifications.scan_deadlines", ignore_result=True)
def scan_deadlines() -> dict:
    """Hourly safety net: DALO offer clocks, deadline timers armed and kept no later than due."""
    from .scan import scan_deadlines as run

    return run()


@shared_task(name="notifications.fire_workflow_timers", ignore_result=True)
def fire_workflow_timers() -> tuple:
    """viewflow's database-backed timers: the steps' deadline timers (.OnTimeout, flow.Timer) send the
    reminders and escalations and record silence worth refusal. One beat instance only."""
    from .scan import fire_timers

    return fire_timers()
