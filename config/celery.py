"""Celery application. Broker from CELERY_BROKER_URL; eager in the embedded default."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("ppgdid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
