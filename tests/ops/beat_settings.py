"""Settings of the real beats of tests/ops/test_beat_lock.py: one entry every second, on real Redis."""

import os

from config.settings.test import *  # noqa: F403

CELERY_BROKER_URL = os.environ["PPGDID_BEAT_TEST_REDIS_URL"]
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "beat-lock-probe": {"task": "tests.ops.beat_probe", "schedule": 1.0, "options": {"queue": "ppgdid-beat-test"}}
}
