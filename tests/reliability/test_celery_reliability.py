"""The outbox against a real Redis broker and real `celery worker` processes (see
notifications/reliability.py for what each scenario does and what its figures mean).

Needs PostgreSQL (the workers read the test database, committed rows: hence `transactional_db`) and
Redis (PPGDID_RELIABILITY_REDIS_URL, default redis://127.0.0.1:6379/3). On a bare machine with
SQLite, or without Redis, these tests are skipped with the reason. Figures are printed (`-s`).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from notifications.models import MAX_ATTEMPTS
from notifications.reliability import database_url

REDIS_URL = os.environ.get("PPGDID_RELIABILITY_REDIS_URL", "redis://127.0.0.1:6379/3")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("reliability tests need PostgreSQL: set DATABASE_URL=postgres://… (workers read committed rows)")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"reliability tests need Redis: {REDIS_URL} is unreachable (PPGDID_RELIABILITY_REDIS_URL)")

    def run(*args, timeout=600):
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DJANGO_DEBUG": "0",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "PPGDID_LOG_LEVEL": "WARNING",
        }
        done = subprocess.run(
            [sys.executable, "manage.py", "notifications_reliability", "--json", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        results = json.loads(done.stdout.strip().splitlines()[-1])
        for scenario, figures in results.items():
            if scenario != "run_id":
                print(f"\n[{scenario}] " + ", ".join(f"{k}={v}" for k, v in figures.items()))
        return results

    return run


def test_1000_notifications_with_workers_killed_10_times_none_lost_none_twice(bench):
    figures = bench("--scenario", "kill", "--notifications", "1000", "--kills", "10", "--timeout", "300")["kill"]
    assert figures["kills"] >= 10
    assert figures["finished_in_time"]
    assert (figures["lost"], figures["duplicated"], figures["failed"]) == (0, 0, 0)
    assert figures["delivered"] == figures["sent"] == 1000


def test_crash_between_commit_and_enqueue_is_delivered_by_the_sweep(bench):
    figures = bench("--scenario", "crash", "--timeout", "120")["crash"]
    assert figures["producer_exit_code"] == -9  # SIGKILL after the commit, before any enqueue
    assert figures["pending_after_crash"] == figures["notifications"] == 50
    assert figures["messages_queued_after_crash"] == 0
    assert (figures["lost"], figures["duplicated"]) == (0, 0)


def test_poison_message_stops_at_five_attempts_and_is_marked_failed(bench):
    figures = bench("--scenario", "poison", "--timeout", "120")["poison"]
    assert (figures["status"], figures["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert figures["delivered"] == 0


def test_connection_cuts_never_send_an_email_twice(bench):
    """The real sends (file mail backend, one file per hand-off) while the workers' PostgreSQL
    connections are cut at random: claim, send outside any transaction, record retried on a fresh
    connection. Before this, 2 in 300 e-mails went out twice with no crash at all."""
    figures = bench("--scenario", "cut", "--notifications", "300", "--timeout", "240")["cut"]
    assert figures["connections_cut"] >= 10
    assert figures["finished_in_time"]
    assert (figures["lost"], figures["duplicated"], figures["failed"]) == (0, 0, 0)
    assert figures["email_handoffs"] == 300
    assert figures["email_handoffs_duplicated"] == 0


def test_a_refused_broker_does_not_slow_the_committing_change(transactional_db):
    """Publishing after commit: no publish retries, 1 s connect timeout; the row stays for the sweep.
    (Before: each change waited 0.7-1.7 s on a refused broker.)"""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the child process reads the test database")
    script = (
        "import time\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.db import transaction\n"
        "from notifications.models import Notification\n"
        "from notifications.outbox import notify\n"
        "user = get_user_model().objects.create(username='broker-down', email='b@example.org')\n"
        "timings = []\n"
        "for i in range(5):\n"
        "    started = time.monotonic()\n"
        "    with transaction.atomic():\n"
        "        notify(recipient=user, template='task_available', key=f'broker-down:{i}', context={'step': 'x'})\n"
        "    timings.append(time.monotonic() - started)\n"
        "pending = Notification.objects.filter(idempotency_key__startswith='broker-down:', channel='email', "
        "status='pending').count()\n"
        "print(max(timings), pending)\n"
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # nothing listens there: connection refused
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PPGDID_LOG_LEVEL": "CRITICAL",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    slowest, pending = done.stdout.strip().splitlines()[-1].split()
    assert pending == "5"  # left to the sweep
    assert float(slowest) < 0.5, slowest
