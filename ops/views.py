"""Probes for load balancers and orchestrators.

/healthz: the process answers (no dependency checked: a database outage must not get every
application server restarted). /readyz: this server can serve: the database answers, the broker
answers (1 s), every migration is applied. 200 or 503, JSON, no personal data, no login needed.
"""

import time

from celery import current_app
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _migrations() -> str:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return "ok" if not plan else f"{len(plan)} pending"


def _broker() -> str:
    if current_app.conf.task_always_eager:
        return "eager"
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)
    return "ok"


@never_cache
@require_GET
def readyz(request):
    checks, ok = {}, True
    for name, check in (("database", _database), ("migrations", _migrations), ("broker", _broker)):
        started = time.monotonic()
        try:
            state = check()
        except Exception as exc:
            state = f"error: {type(exc).__name__}"
        checks[name] = {"status": state, "ms": round((time.monotonic() - started) * 1000, 1)}
        ok = ok and state in ("ok", "eager")
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)
