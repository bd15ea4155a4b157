"""deploy/run-local-stack.sh starts the whole production stack and stops every process it started.

Opt-in (it starts gunicorn, two Celery workers and beat; some 30-60 s): set
PPGDID_STACK_TEST_DATABASE_URL (a PostgreSQL database it may migrate) and PPGDID_STACK_TEST_BROKER_URL
(a Redis database), e.g.

    PPGDID_STACK_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppgdid_stack \\
    PPGDID_STACK_TEST_BROKER_URL=redis://127.0.0.1:6379/11 pytest tests/ops/test_local_stack.py
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DATABASE_URL = os.environ.get("PPGDID_STACK_TEST_DATABASE_URL")
BROKER_URL = os.environ.get("PPGDID_STACK_TEST_BROKER_URL")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (DATABASE_URL and BROKER_URL), reason="PPGDID_STACK_TEST_DATABASE_URL and PPGDID_STACK_TEST_BROKER_URL unset"
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stack_starts_answers_ready_and_stops_everything():
    env = {
        **os.environ,
        "PY": sys.executable,
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "GUNICORN_BIND": "127.0.0.1:8018",
        "GUNICORN_WORKERS": "2",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the script sets the production settings itself
    # The command run once ready: /readyz through the stack's own address, and the static files.
    probe = 'curl -fsS -o /dev/null -w "readyz %{http_code}\\n" "$STACK_URL/readyz"'
    result = subprocess.run(
        ["bash", "deploy/run-local-stack.sh", "--", "bash", "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "readyz 200" in out
    assert re.search(r"static file by WhiteNoise \(DEBUG off\): \S+ -> 200 text/css", out)
    assert re.search(r"gunicorn workers: 2 ", out)
    assert re.search(r"worker-emails queues: emails", out) and re.search(r"worker-timers queues: timers", out)
    pids = [int(p) for p in re.findall(r"^\s+\S+\s+pid (\d+)", out, re.M)]
    assert len(pids) == 4  # web, two workers, beat
    assert "stack stopped" in out
    assert not [pid for pid in pids if alive(pid)]
