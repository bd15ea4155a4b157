"""Celery tasks. They take ids, are idempotent, and call the same code as the management commands."""

from celery import shared_task

from . import outbox


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep_outbox() -> int:
    return outbox.sweep()


@shared_task(name="notifications.daily_digest", ignore_result=True)
def daily_digest() -> int:
    return outbox.send_digests()


@shared_task(name="notifications.send_reminders", ignore_result=True)
def send_reminders() -> int:
    return outbox.send_reminders()
