"""Beat fires each tick once (ops/beat.py): two lock holders, then two real `celery beat` processes,
against real Redis (PPGDID_BEAT_TEST_REDIS_URL, default redis://127.0.0.1:6379/5; skipped without it)."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ops.beat import TickLock

REDIS_URL = os.environ.get("PPGDID_BEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
ROOT = Path(__file__).resolve().parents[2]
QUEUE = "ppgdid-beat-test"


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"the beat lock tests need Redis: {REDIS_URL} is unreachable (PPGDID_BEAT_TEST_REDIS_URL)")
    client.delete("ppgdid:beat:beat-lock-probe", "ppgdid:beat:test-entry", QUEUE)
    yield client
    client.delete("ppgdid:beat:beat-lock-probe", "ppgdid:beat:test-entry", QUEUE)


def test_two_lock_holders_one_claims_each_tick(redis_client):
    first, second = TickLock(REDIS_URL, owner="beat-1"), TickLock(REDIS_URL, owner="beat-2")
    assert first.claim("test-entry", 0.5) is True
    assert second.claim("test-entry", 0.5) is False  # same tick: refused
    assert first.claim("test-entry", 0.5) is False  # nor twice by the same beat
    time.sleep(0.6)
    assert second.claim("test-entry", 0.5) is True  # next tick: whoever comes first


def test_two_real_beats_send_each_tick_once(redis_client, tmp_path):
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.ops.beat_settings",
        "PPGDID_BEAT_TEST_REDIS_URL": REDIS_URL,
        # Celery reads CELERY_BROKER_URL from the environment before the settings (CI sets it to db 0).
        "CELERY_BROKER_URL": REDIS_URL,
        "PPGDID_LOG_LEVEL": "INFO",
    }
    beats, logs = [], []
    for name in ("a", "b"):
        log = (tmp_path / f"beat-{name}.log").open("w")
        logs.append(log)
        beats.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "INFO", "-s", str(tmp_path / name)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    started = time.monotonic()
    try:
        # Both beats up and ticking (each logs its first tick, sent or taken by the other), then 6 s more.
        deadline = started + 60
        while time.monotonic() < deadline and not all(
            re.search(r"Sending due task|taken by another beat", (tmp_path / f"beat-{n}.log").read_text())
            for n in ("a", "b")
        ):
            time.sleep(0.2)
        overlap_started = time.monotonic()
        time.sleep(6)
    finally:
        for beat in beats:
            beat.send_signal(signal.SIGTERM)
        for beat in beats:
            beat.wait(timeout=30)
        for log in logs:
            log.close()
    overlap = time.monotonic() - overlap_started
    texts = [(tmp_path / f"beat-{n}.log").read_text() for n in ("a", "b")]
    sent = [len(re.findall(r"Sending due task beat-lock-probe", t)) for t in texts]
    skipped = [len(re.findall(r"taken by another beat entry=beat-lock-probe", t)) for t in texts]
    queued = redis_client.llen(QUEUE)
    total = time.monotonic() - started
    print(
        f"\nbeats: sent {sent}, skipped {skipped}, messages queued {queued}, overlap {overlap:.1f} s, run {total:.1f} s"
    )
    assert sum(sent) == queued  # what the logs say is what reached the broker
    assert sum(skipped) >= 3, texts  # both beats ticked together and one gave way
    # One message per second of the run at most (plus the tick in flight), where two beats alone would send two.
    assert queued <= total + 1
