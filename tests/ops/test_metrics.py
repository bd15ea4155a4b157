"""/metrics: refused by default, open to the bearer token or an allowed address; requests, queries,
Celery tasks, the outbox backlog and the overdue steps in Prometheus' text format."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery import current_app, shared_task
from django.core.cache import cache
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from notifications.models import Notification

pytestmark = pytest.mark.django_db
TOKEN = "jeton-de-test-0123456789"


@pytest.fixture
def scraper(client, settings):
    settings.PPGDID_METRICS_TOKEN = TOKEN
    cache.delete("ppgdid:metrics:overdue")

    def scrape() -> dict:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.status_code
        samples = {}
        for family in text_string_to_metric_families(response.content.decode()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    return scrape


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_refused_by_default_even_to_a_signed_in_supervisor(world, client, caplog):
    client.force_login(world.supervisor)
    response = client.get("/metrics")
    assert response.status_code == 403
    assert "metrics refused reason=not configured" in caplog.text


def test_token_and_addresses(client, settings):
    settings.PPGDID_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer autre-chose").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    settings.PPGDID_METRICS_TOKEN = ""
    settings.PPGDID_METRICS_ALLOWED_IPS = ["10.0.0.9"]
    assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1
    settings.PPGDID_METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert client.get("/metrics").status_code == 200
    # Through the reverse proxy (X-Forwarded-For): the proxy's address proves nothing.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 403


def test_requests_and_queries_are_counted(client, scraper):
    before = scraper()
    client.get("/healthz")
    client.get("/readyz")  # queries the database
    after = scraper()
    key = "django_http_responses_total_by_status_view_method_total"
    assert value(after, key, status="200", view="healthz", method="GET") == (
        value(before, key, status="200", view="healthz", method="GET") + 1
    )
    vendor = (
        "postgresql"
        if any(k[0] == "django_db_execute_total" and ("vendor", "postgresql") in k[1] for k in after)
        else "sqlite"
    )
    queries = value(after, "django_db_execute_total", alias="default", vendor=vendor)
    assert queries > value(before, "django_db_execute_total", alias="default", vendor=vendor)


@shared_task(name="tests.ops.probe")
def probe(fail=False):
    if fail:
        raise ValueError("échec voulu")
    return "ok"


def test_celery_tasks_are_counted_with_outcome_and_duration(scraper):
    before = scraper()
    probe.delay()
    conf = current_app.conf
    conf.task_eager_propagates = False  # as in a worker: the failure is recorded, not raised here
    try:
        assert probe.delay(fail=True).state == "FAILURE"
    finally:
        conf.task_eager_propagates = True
    after = scraper()
    for outcome in ("success", "failure"):
        name = "ppgdid_celery_tasks_total"
        assert value(after, name, task="tests.ops.probe", outcome=outcome) == (
            value(before, name, task="tests.ops.probe", outcome=outcome) + 1
        )
    assert value(after, "ppgdid_celery_task_seconds_count", task="tests.ops.probe") == (
        value(before, "ppgdid_celery_task_seconds_count", task="tests.ops.probe") + 2
    )


def test_outbox_backlog_by_channel_and_status(world, scraper):
    user = world.social_worker
    now = timezone.now()
    for i, (channel, status) in enumerate([("email", "pending")] * 3 + [("email", "failed"), ("in_app", "sent")]):
        Notification.objects.create(
            recipient=user, channel=channel, status=status, template="t", idempotency_key=f"k{i}", next_attempt_at=now
        )
    samples = scraper()
    assert value(samples, "ppgdid_outbox_notifications", channel="email", status="pending") == 3
    assert value(samples, "ppgdid_outbox_notifications", channel="email", status="failed") == 1
    assert value(samples, "ppgdid_outbox_notifications", channel="in_app", status="pending") == 0


def test_overdue_steps_follow_the_due_date_rule(world, scraper):
    paris = ZoneInfo("Europe/Paris")
    with time_machine.travel(datetime(2026, 9, 7, 10, tzinfo=paris), tick=False):
        world.flag()  # diagnostic due on 7/10 (30 days)
    with time_machine.travel(datetime(2026, 10, 7, 10, tzinfo=paris), tick=False):
        assert value(scraper(), "ppgdid_overdue_steps", step="diagnostic") == 0
    with time_machine.travel(datetime(2026, 10, 8, 10, tzinfo=paris), tick=False):
        cache.delete("ppgdid:metrics:overdue")  # kept PPGDID_METRICS_OVERDUE_SECONDS between scrapes
        assert value(scraper(), "ppgdid_overdue_steps", step="diagnostic") == 1
