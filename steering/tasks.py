"""Celery tasks of the steering app (run by beat; see config/settings/base.py)."""

from celery import shared_task

from . import aggregates


@shared_task(name="steering.refresh", ignore_result=True)
def refresh_aggregates() -> int:
    return aggregates.refresh_dirty()
