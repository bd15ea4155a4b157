"""Prometheus metrics (/metrics, text format).

- Requests and database queries: django-prometheus (its middleware pair and database wrappers,
  config/settings/base.py).
- Celery tasks: counts by task and outcome, durations (signals below, in the worker processes).
- Outbox backlog and overdue steps: collectors run at scrape time. The backlog is two indexed counts;
  overdue steps come from the one rule of due dates (workflows.queries.overdue_steps, nothing stored),
  so that figure is kept PPGDID_METRICS_OVERDUE_SECONDS between computations.

Several processes (gunicorn workers, Celery pool): set PROMETHEUS_MULTIPROC_DIR (deploy/): each process
writes its counters there and /metrics adds them up. A worker on another machine serves its own on
PPGDID_WORKER_METRICS_PORT.
"""

import hmac
import logging
import os
import time

from celery import signals
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from notifications.models import Notification
from workflows.queries import overdue_steps

log = logging.getLogger("ppgdid.access")

TASKS = Counter("ppgdid_celery_tasks_total", "Celery tasks run, by task and outcome", ["task", "outcome"])
TASK_SECONDS = Histogram(
    "ppgdid_celery_task_seconds",
    "Celery task run time",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_started(task_id=None, **kwargs):
    _started[task_id] = time.monotonic()


@signals.task_postrun.connect
def _task_ended(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    name = getattr(task, "name", "?")
    if started is not None:
        TASK_SECONDS.labels(name).observe(time.monotonic() - started)
    TASKS.labels(name, (state or "unknown").lower()).inc()


@signals.worker_ready.connect
def _serve_worker_metrics(**kwargs):
    port = os.environ.get("PPGDID_WORKER_METRICS_PORT")
    if port:
        from prometheus_client import start_http_server

        start_http_server(
            int(port), addr=os.environ.get("PPGDID_WORKER_METRICS_ADDR", "127.0.0.1"), registry=_registry()
        )


class OutboxCollector:
    """Notifications not sent yet, by channel and state: the sweep's and the mail server's backlog."""

    def collect(self):
        family = GaugeMetricFamily(
            "ppgdid_outbox_notifications", "Notifications pending or failed, by channel", labels=["channel", "status"]
        )
        waiting = (Notification.Status.PENDING, Notification.Status.FAILED)
        counts = {(channel, status): 0 for channel in Notification.Channel.values for status in waiting}
        rows = Notification.objects.filter(status__in=waiting).values_list("channel", "status").annotate(n=Count("pk"))
        for channel, status, n in rows.order_by():
            counts[(channel, status)] = n
        for (channel, status), n in sorted(counts.items()):
            family.add_metric([channel, status], n)
        yield family


class OverdueCollector:
    """Open steps past their due date, by step (workflows/deadlines.py), recomputed now and then."""

    def collect(self):
        def compute():
            started = time.monotonic()
            return overdue_steps(), time.monotonic() - started

        counts, seconds = cache.get_or_set("ppgdid:metrics:overdue", compute, settings.PPGDID_METRICS_OVERDUE_SECONDS)
        family = GaugeMetricFamily("ppgdid_overdue_steps", "Open steps past their due date, by step", labels=["step"])
        for step, n in sorted(counts.items()):
            family.add_metric([step], n)
        yield family
        yield GaugeMetricFamily(
            "ppgdid_overdue_steps_compute_seconds", "Time the last overdue count took", value=round(seconds, 3)
        )


APP_REGISTRY = CollectorRegistry()
APP_REGISTRY.register(OutboxCollector())
APP_REGISTRY.register(OverdueCollector())


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _refusal(request) -> str | None:
    """Why this request may not read the metrics (None: it may). Deny by default."""
    token = settings.PPGDID_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return None
    if settings.PPGDID_METRICS_ALLOWED_IPS:
        if "X-Forwarded-For" in request.headers:
            return "forwarded"  # came through the proxy: its address says nothing of the scraper
        if request.META.get("REMOTE_ADDR") in settings.PPGDID_METRICS_ALLOWED_IPS:
            return None
        return "address"
    return "token" if token else "not configured"


@never_cache
@require_GET
def metrics(request):
    refusal = _refusal(request)
    if refusal:
        log.warning("metrics refused reason=%s", refusal)
        return HttpResponse("Accès refusé.\n", status=403, content_type="text/plain; charset=utf-8")
    body = generate_latest(_registry()) + generate_latest(APP_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
