"""Health and readiness probes; JSON log lines with the request id and the user id, no personal data."""

import io
import json
import logging

import pytest
from celery import current_app
from pythonjsonlogger.json import JsonFormatter

from ops.logging import RequestContextFilter
from permissions.roles import Role
from tests.factories import member


def test_healthz_answers_without_login_or_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_migrations_and_broker(client):
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["migrations"]["status"] == "ok"


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_down(client):
    conf = current_app.conf
    saved = conf.task_always_eager, conf.broker_url, conf.broker_write_url
    refused = "redis://127.0.0.1:1/0"  # nothing listens there
    conf.task_always_eager, conf.broker_url, conf.broker_write_url = False, refused, refused
    try:
        response = client.get("/readyz")
    finally:
        conf.task_always_eager, conf.broker_url, conf.broker_write_url = saved
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"].startswith("error")


@pytest.mark.django_db
def test_json_log_lines_carry_request_and_user_ids_but_no_personal_data(client, settings):
    settings.PPGDID_SECOND_FACTOR = True  # its middleware logs each redirect to the check
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s"))
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("ppgdid.accounts")
    logger.addHandler(handler)
    try:
        user = member(Role.SUPERVISOR, username="jeanne.martin", email="jeanne.martin@example.org")
        client.force_login(user)
        response = client.get("/dossiers/")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "no log line"
    assert lines[0]["request_id"] == response["X-Request-ID"]
    assert lines[0]["user_id"] == user.pk
    assert "jeanne" not in stream.getvalue()


@pytest.mark.django_db
def test_access_log_and_django_lines_never_carry_the_query_string(client):
    from ops.logging import NoQueryStringFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(NoQueryStringFilter())
    loggers = [logging.getLogger("ppgdid.request"), logging.getLogger("django.server")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        client.force_login(member(Role.SOCIAL_WORKER, username="ts.log"))
        assert client.get("/dossiers/", {"q": "Nomsecret", "etape": "diagnostic"}).status_code == 200
        # runserver's access line, as django.core.servers.basehttp writes it (the request object attached).
        logging.getLogger("django.server").info(
            '"%s" %s %s', "GET /dossiers/?q=Nomsecret HTTP/1.1", "200", "512", extra={"request": "GET ?q=Nomsecret"}
        )
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    text = stream.getvalue()
    assert "path=/dossiers/ status=200" in text and "GET /dossiers/ HTTP/1.1" in text
    assert "Nomsecret" not in text and "?" not in text
