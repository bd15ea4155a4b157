"""Celery application. Broker from CELERY_BROKER_URL; eager in the embedded default."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("ppgdid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Offer deadlines (cases/tasks.py): lapsed suspensive conditions, silence counted as refusal.
from celery.schedules import crontab  # noqa: E402

app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "cases-offers-sweep": {"task": "cases.tasks.offers_sweep", "schedule": crontab(minute=20, hour="*/2")},
}
