from celery import shared_task


@shared_task(acks_late=True)
def offers_sweep():
    """Celery beat entry (CELERY_BEAT_SCHEDULE): lapsed suspensive conditions."""
    from workflows.services import offers_sweep as sweep

    return sweep()
