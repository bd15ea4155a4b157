"""Beat fires each tick once, however many beats run (one per node for failover, or by mistake).

Each due entry is sent only by the beat that takes its Redis lock (SET NX, expiring after 90 % of the
entry's period): the others skip it and move on to its next tick as if sent, so a standby beat that
takes over never fires a backlog. So an entry fires at most once per occurrence of a crontab schedule,
and never twice within 90 % of an interval. The lock lives in the broker's Redis (or
PPGDID_BEAT_LOCK_URL); with another broker (the embedded default) nothing is locked: run one beat.

    CELERY_BEAT_SCHEDULER = "ops.beat:LockedScheduler"   (config/settings/base.py)
"""

import logging
import os
import socket

from celery.beat import PersistentScheduler
from django.conf import settings

log = logging.getLogger("ppgdid.ops")

MIN_HOLD_SECONDS = 0.5


def lock_url() -> str:
    url = getattr(settings, "PPGDID_BEAT_LOCK_URL", "") or settings.CELERY_BROKER_URL
    return url if url.startswith(("redis://", "rediss://", "unix://")) else ""


class TickLock:
    """One claim per entry and tick, shared by every beat through Redis."""

    def __init__(self, url: str, owner: str | None = None):
        import redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"

    def claim(self, name: str, hold_seconds: float) -> bool:
        hold_ms = int(max(hold_seconds, MIN_HOLD_SECONDS) * 1000)
        return bool(self.client.set(f"ppgdid:beat:{name}", self.owner, nx=True, px=hold_ms))


def hold_seconds(entry) -> float:
    """90 % of the time from now to the entry's next occurrence."""
    schedule = entry.schedule
    return 0.9 * schedule.remaining_estimate(schedule.now()).total_seconds()


class LockedScheduler(PersistentScheduler):
    def setup_schedule(self):
        super().setup_schedule()
        url = lock_url()
        self.tick_lock = TickLock(url) if url else None
        if self.tick_lock is None:
            log.warning("beat without lock: the broker is not Redis, run a single beat")

    def apply_entry(self, entry, producer=None):
        if self.tick_lock is not None:
            try:
                claimed = self.tick_lock.claim(entry.name, hold_seconds(entry))
            except Exception as exc:  # Redis down: the broker is too; the next tick tries again
                log.error("beat lock unavailable entry=%s error=%s", entry.name, type(exc).__name__)
                return
            if not claimed:
                log.info("beat tick taken by another beat entry=%s", entry.name)
                return
        super().apply_entry(entry, producer=producer)
