from celery import shared_task


@shared_task(acks_late=True)
def offers_sweep():
    """Celery beat entry (config/celery.py): offer deadlines that act by themselves."""
    from workflows.services import offers_sweep as sweep

    return sweep()
