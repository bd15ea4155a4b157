"""Reliability bench of the outbox against a real Redis broker and real Celery worker processes.

Scenarios (each returns its figures as a dict):
- kill:   N e-mail notifications produced through the outbox while worker processes are killed with
          SIGKILL at random (the whole worker, or one pool child), then restarted;
- crash:  the producing process is killed between the commit and the enqueue (its first on-commit
          callback SIGKILLs it), so no message exists: the sweep must deliver every row;
- poison: a notification that fails at every attempt must stop after MAX_ATTEMPTS, marked failed;
- cut:    N notifications while the workers' PostgreSQL connections are cut (pg_terminate_backend)
          at random: no e-mail may be handed to the mail backend twice, none lost.

"Delivered" is a DeliveryLog row, written in the transaction that marks the notification sent:
`duplicated` counts keys delivered more than once, `lost` counts notifications never delivered.
The e-mails go to Django's file backend: these are the REAL sends. `email_handoffs_duplicated` counts
Message-IDs handed to it more than once (only a worker killed between the hand-off and the record can
cause one; a lost connection cannot, since the record is retried on a fresh connection).

The bench needs PostgreSQL (the workers must see committed rows and take row locks) and Redis.
Everything it creates carries the run id and is deleted at the end.
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.test.utils import override_settings

from .models import MAX_ATTEMPTS, DeliveryLog, Notification
from .outbox import message_id, notify, sweep

BASE_DIR = Path(settings.BASE_DIR)


class BenchError(Exception):
    pass


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s["HOST"] or "127.0.0.1"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{s['NAME']}"


def check_prerequisites() -> None:
    app = current_app
    if connection.vendor != "postgresql":
        raise BenchError(
            "Le banc de fiabilité a besoin de PostgreSQL (DATABASE_URL=postgres://…) : les workers doivent "
            "voir les lignes validées et prendre des verrous de ligne."
        )
    broker = app.conf.broker_url or ""
    if not broker.startswith(("redis://", "rediss://")) or app.conf.task_always_eager:
        raise BenchError("Le banc de fiabilité a besoin d'un broker Redis : CELERY_BROKER_URL=redis://hôte:6379/N.")
    import redis

    try:
        redis.Redis.from_url(broker, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise BenchError(f"Redis injoignable ({broker}) : {exc}") from exc


class Workers:
    """Real `celery -A config worker` processes, each in its own process group."""

    def __init__(self, *, count: int, concurrency: int, queue: str, env: dict, log_dir: Path):
        self.count, self.concurrency, self.queue, self.env, self.log_dir = count, concurrency, queue, env, log_dir
        self.procs: dict[int, subprocess.Popen] = {}
        self.kills = Counter()

    def start(self, index: int) -> None:
        log = open(self.log_dir / f"worker{index}.log", "ab")  # noqa: SIM115 (closed with the process)
        self.procs[index] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "prefork",
                "-c",
                str(self.concurrency),
                "-Q",
                self.queue,
                "-n",
                f"bench{index}-{self.queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def start_all(self) -> None:
        for index in range(self.count):
            self.start(index)

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def kill_random(self, rng: random.Random) -> str:
        """SIGKILL one worker (process group) or one of its pool children, then restart the dead."""
        index = rng.randrange(self.count)
        proc = self.procs[index]
        children = []
        if rng.random() < 0.3:
            for _ in range(20):  # a freshly restarted worker forks its pool after a second or two
                children = self._children(proc.pid)
                if children:
                    break
                time.sleep(0.1)
        if children:
            os.kill(rng.choice(children), signal.SIGKILL)  # the parent re-spawns it (reject_on_worker_lost)
            self.kills["pool_child"] += 1
            return "pool_child"
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        self.kills["whole_worker"] += 1
        self.start(index)
        return "whole_worker"

    def stop_all(self) -> None:
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


class Sweeper(threading.Thread):
    """Stands in for beat: runs the outbox sweep every `interval` seconds."""

    def __init__(self, interval: float):
        super().__init__(daemon=True)
        self.interval, self.stopped, self.requeued = interval, threading.Event(), 0

    def run(self):
        try:
            while not self.stopped.wait(self.interval):
                self.requeued += sweep()
        finally:
            connection.close()


def _figures(prefix: str, expected: int, started: float) -> dict:
    rows = Notification.objects.filter(idempotency_key__startswith=prefix, channel=Notification.Channel.EMAIL)
    by_status = dict(rows.values_list("status").annotate(n=Count("pk")))
    deliveries = DeliveryLog.objects.filter(idempotency_key__startswith=prefix)
    per_key = Counter(deliveries.values_list("idempotency_key", flat=True))
    agg = rows.aggregate(total=Sum("attempts"), max=Max("attempts"))
    attempts = dict(sorted(Counter(rows.values_list("attempts", flat=True)).items()))
    return {
        "notifications": expected,
        "delivered": len(per_key),
        "lost": expected - len(per_key),
        "duplicated": sum(n - 1 for n in per_key.values() if n > 1),
        "sent": by_status.get("sent", 0),
        "failed": by_status.get("failed", 0),
        "pending": by_status.get("pending", 0),
        "attempts_total": agg["total"] or 0,
        "attempts_max": agg["max"] or 0,
        "attempts_distribution": {str(k): v for k, v in attempts.items()},
        "duration_s": round(time.monotonic() - started, 2),
    }


def _email_handoffs(mail_dir: Path) -> Counter:
    ids = Counter()
    for path in mail_dir.glob("*"):
        ids.update(re.findall(r"^Message-ID: (<[^>]+>)", path.read_text(errors="replace"), flags=re.MULTILINE))
    return ids


def _wait(prefix: str, statuses: set, expected: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = Notification.objects.filter(
            idempotency_key__startswith=prefix, channel=Notification.Channel.EMAIL, status__in=statuses
        ).count()
        if done >= expected:
            return True
        time.sleep(0.25)
    return False


def _produce(user, prefix: str, start: int, count: int, template: str = "task_available") -> None:
    with transaction.atomic():
        for i in range(start, start + count):
            notify(recipient=user, template=template, key=f"{prefix}{i}", context={"step": "Banc", "due": ""})


def crash_producer(run_id: str, count: int) -> None:
    """Runs in a child process: commit `count` notifications, then die before any enqueue runs."""
    user = get_user_model().objects.get(username=f"bench-{run_id}")
    with transaction.atomic():
        # Registered first, so it runs first at commit: the process dies after the commit and before
        # the outbox's own on-commit callbacks publish anything.
        transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
        for i in range(count):
            notify(recipient=user, template="task_available", key=f"bench:{run_id}:crash:{i}", context={"step": "Banc"})


class Bench:
    def __init__(self, *, workers=2, concurrency=2, retry_seconds=1, timeout=300, seed=None, log=print):
        check_prerequisites()
        self.app, self.log = current_app, log
        self.run_id = uuid.uuid4().hex[:8]
        self.queues = []
        self.rng = random.Random(seed)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"ppgdid-bench-{self.run_id}-"))
        self.mail_dir = self.tmp / "mail"
        self.mail_dir.mkdir()
        self.timeout, self.retry_seconds = timeout, retry_seconds
        self.n_workers, self.concurrency = workers, concurrency
        self.env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DJANGO_DEBUG": "0",
            # Workers keep their connection; the name lets the "cut" scenario find and cut it.
            "DATABASE_URL": database_url() + "?conn_max_age=60&application_name=ppgdid-bench-worker",
            "CELERY_BROKER_URL": self.app.conf.broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "DJANGO_EMAIL_FILE_PATH": str(self.mail_dir),
            "NOTIFICATIONS_RETRY_SECONDS": str(retry_seconds),
            "PPGDID_LOG_LEVEL": "ERROR",
        }
        # This process sweeps on the bench's short delay.
        self._settings = override_settings(NOTIFICATIONS_RETRY_SECONDS=retry_seconds)
        self._settings.enable()
        self.user = get_user_model().objects.create(
            username=f"bench-{self.run_id}", email=f"bench-{self.run_id}@example.org", is_active=True
        )

    def use_queue(self, scenario: str) -> None:
        """Each scenario gets its own queue: leftovers of one never count in another."""
        self.queue = f"ppgdid-bench-{self.run_id}-{scenario}"
        self.queues.append(self.queue)
        self.app.conf.task_default_queue = self.queue  # what this process publishes to

    def workers(self, count=None) -> Workers:
        w = Workers(
            count=count or self.n_workers,
            concurrency=self.concurrency,
            queue=self.queue,
            env=self.env,
            log_dir=self.tmp,
        )
        w.start_all()
        return w

    def run_kill(self, notifications=1000, kills=10) -> dict:
        prefix = f"bench:{self.run_id}:kill:"
        self.use_queue("kill")
        started = time.monotonic()
        workers = self.workers()
        sweeper = Sweeper(interval=1.0)
        sweeper.start()
        stop_killing = threading.Event()

        def killer():
            # Spread the kills over the production window, then go on until the target is reached.
            while not stop_killing.is_set() and sum(workers.kills.values()) < kills:
                time.sleep(self.rng.uniform(0.2, 0.9))
                workers.kill_random(self.rng)

        thread = threading.Thread(target=killer, daemon=True)
        try:
            thread.start()
            batch, produced = 20, 0
            while produced < notifications:
                count = min(batch, notifications - produced)
                _produce(self.user, prefix, produced, count)
                produced += count
                time.sleep(0.08)  # about 250 notifications a second: kills land while work is in flight
            thread.join(timeout=self.timeout)
            finished = _wait(prefix, {"sent", "failed"}, notifications, self.timeout)
        finally:
            stop_killing.set()
            sweeper.stopped.set()
            sweeper.join()
            workers.stop_all()
        figures = _figures(prefix, notifications, started)
        handoffs = _email_handoffs(self.mail_dir)
        figures |= {
            "finished_in_time": finished,
            "kills": sum(workers.kills.values()),
            "kills_by_kind": dict(workers.kills),
            "sweep_requeued": sweeper.requeued,
            "email_handoffs": sum(handoffs.values()),
            "email_handoffs_duplicated": sum(n - 1 for n in handoffs.values() if n > 1),
        }
        return figures

    def run_cut(self, notifications=300) -> dict:
        """Cut every worker database connection at random moments while e-mails are being sent."""
        prefix = f"bench:{self.run_id}:cut:"
        self.use_queue("cut")
        started = time.monotonic()
        workers = self.workers()
        sweeper = Sweeper(interval=1.0)
        sweeper.start()
        stop, done_cuts = threading.Event(), Counter()

        def cutter():
            from django.db import connections

            conn = connections.create_connection("default")  # this thread's own connection
            try:
                # Workers hold a connection only while a task runs (Celery closes it after each task):
                # cut every 0.1-0.3 s, until every e-mail is recorded.
                while not stop.is_set():
                    time.sleep(self.rng.uniform(0.1, 0.3))
                    with conn.cursor() as cursor:
                        cursor.execute(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND application_name = 'ppgdid-bench-worker'"
                        )
                        done_cuts["connections"] += cursor.fetchone()[0]
                    done_cuts["rounds"] += 1
            finally:
                conn.close()

        thread = threading.Thread(target=cutter, daemon=True)
        try:
            thread.start()
            produced = 0
            while produced < notifications:
                count = min(10, notifications - produced)
                _produce(self.user, prefix, produced, count)
                produced += count
                time.sleep(0.05)
            finished = _wait(prefix, {"sent", "failed"}, notifications, self.timeout)
        finally:
            stop.set()
            thread.join(timeout=10)
            sweeper.stopped.set()
            sweeper.join()
            workers.stop_all()
        mine = {
            message_id(key)
            for key in Notification.objects.filter(idempotency_key__startswith=prefix).values_list(
                "idempotency_key", flat=True
            )
        }
        handoffs = Counter({k: n for k, n in _email_handoffs(self.mail_dir).items() if k in mine})
        return _figures(prefix, notifications, started) | {
            "finished_in_time": finished,
            "cut_rounds": done_cuts["rounds"],
            "connections_cut": done_cuts["connections"],
            "sweep_requeued": sweeper.requeued,
            "email_handoffs": sum(handoffs.values()),
            "email_handoffs_duplicated": sum(n - 1 for n in handoffs.values() if n > 1),
        }

    def run_crash(self, notifications=50) -> dict:
        prefix = f"bench:{self.run_id}:crash:"
        self.use_queue("crash")
        started = time.monotonic()
        child = subprocess.run(
            [sys.executable, "manage.py", "notifications_reliability", "--crash-producer", self.run_id],
            cwd=BASE_DIR,
            env=self.env | {"BENCH_CRASH_COUNT": str(notifications)},
            capture_output=True,
            timeout=120,
        )
        pending = Notification.objects.filter(
            idempotency_key__startswith=prefix, channel=Notification.Channel.EMAIL, status="pending"
        ).count()
        import redis

        queued = redis.Redis.from_url(self.app.conf.broker_url).llen(self.queue)
        workers = self.workers(count=1)
        sweeper = Sweeper(interval=1.0)
        sweeper.start()
        try:
            finished = _wait(prefix, {"sent", "failed"}, notifications, self.timeout)
        finally:
            sweeper.stopped.set()
            sweeper.join()
            workers.stop_all()
        return _figures(prefix, notifications, started) | {
            "producer_exit_code": child.returncode,
            "pending_after_crash": pending,
            "messages_queued_after_crash": queued,
            "sweep_requeued": sweeper.requeued,
            "finished_in_time": finished,
        }

    def run_poison(self) -> dict:
        prefix = f"bench:{self.run_id}:poison:"
        self.use_queue("poison")
        started = time.monotonic()
        workers = self.workers(count=1)
        sweeper = Sweeper(interval=0.5)
        sweeper.start()
        try:
            _produce(self.user, prefix, 0, 1, template="__poison__")  # no such template: fails every time
            finished = _wait(prefix, {"failed", "sent"}, 1, self.timeout)
        finally:
            sweeper.stopped.set()
            sweeper.join()
            workers.stop_all()
        row = Notification.objects.get(idempotency_key=f"{prefix}0:email")
        figures = _figures(prefix, 1, started)
        figures.pop("lost")  # a poison message is meant to end failed, not delivered
        return figures | {
            "status": row.status,
            "attempts": row.attempts,
            "max_attempts": MAX_ATTEMPTS,
            "last_error": row.last_error.splitlines()[0][:120] if row.last_error else "",
            "finished_in_time": finished,
        }

    def cleanup(self, keep=False) -> None:
        import redis

        client = redis.Redis.from_url(self.app.conf.broker_url)
        for key in client.scan_iter(f"*ppgdid-bench-{self.run_id}*"):
            client.delete(key)
        # Messages a killed worker held stay in kombu's "unacked" hash until the visibility timeout.
        for tag, payload in client.hgetall("unacked").items():
            if f"ppgdid-bench-{self.run_id}".encode() in payload:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
        if not keep:
            Notification.objects.filter(idempotency_key__startswith=f"bench:{self.run_id}:").delete()
            self.user.delete()
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._settings.disable()


def run(scenarios=("kill", "crash", "poison"), *, notifications=1000, kills=10, keep=False, **options) -> dict:
    bench = Bench(**options)
    results = {"run_id": bench.run_id}
    try:
        for scenario in scenarios:
            if scenario == "kill":
                results["kill"] = bench.run_kill(notifications=notifications, kills=kills)
            elif scenario == "crash":
                results["crash"] = bench.run_crash()
            elif scenario == "cut":
                results["cut"] = bench.run_cut(notifications=min(notifications, 300))
            elif scenario == "poison":
                results["poison"] = bench.run_poison()
            bench.log(json.dumps({scenario: results[scenario]}, ensure_ascii=False))
    finally:
        bench.cleanup(keep=keep)
    return results
