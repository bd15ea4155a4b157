"""Monthly retention (CELERY_BEAT_SCHEDULE "retention-monthly")."""

from celery import shared_task

from .services import apply_retention


@shared_task(name="privacy.apply_retention", ignore_result=True, soft_time_limit=3 * 3600, time_limit=3 * 3600 + 300)
def apply_retention_task():
    """Anonymise every case past its retention (the system actor, audit.signals, records it)."""
    results = apply_retention()
    return sum(len(line.case_ids) for line, _counts in results)
