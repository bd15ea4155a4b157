#!/usr/bin/env bash
# The whole production stack on one machine, with the same commands and queues as deploy/systemd and
# deploy/compose.yaml: gunicorn (GUNICORN_WORKERS, default 3), a Celery worker on "emails", one on
# "timers", one beat, config.settings.prod, against the local PostgreSQL (DATABASE_URL) and Redis
# (CELERY_BROKER_URL). Waits for /readyz, then runs until Ctrl-C (or, with --check, scrapes /metrics
# once and stops). Stops every process it started, and only those.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppgdid CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
#     bash deploy/run-local-stack.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=$(dirname "$PY")
RUN=$(mktemp -d -t ppgdid-stack.XXXXXX)
export DJANGO_SETTINGS_MODULE=config.settings.prod
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-local-stack-$(date +%s)-$RANDOM$RANDOM$RANDOM$RANDOM}
export DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}
export DJANGO_SECURE_SSL_REDIRECT=${DJANGO_SECURE_SSL_REDIRECT:-0}  # plain HTTP on loopback
export GUNICORN_BIND=${GUNICORN_BIND:-127.0.0.1:8000}
export GUNICORN_WORKERS=${GUNICORN_WORKERS:-3}
export PPGDID_METRICS_TOKEN=${PPGDID_METRICS_TOKEN:-local-$RANDOM$RANDOM}
export PROMETHEUS_MULTIPROC_DIR="$RUN/metrics"  # every process's counters, summed by /metrics
export PPGDID_LOG_FORMAT=${PPGDID_LOG_FORMAT:-json}
: "${DATABASE_URL:?set DATABASE_URL}" "${CELERY_BROKER_URL:?set CELERY_BROKER_URL}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stack stopped (logs in $RUN)"
}
trap stop INT TERM EXIT

"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
"$BIN/gunicorn" -c deploy/gunicorn.conf.py config.wsgi >"$RUN/web.log" 2>&1 & pids+=($!)
"$BIN/celery" -A config worker -Q emails -c 2 -n "emails@%h" -l INFO >"$RUN/worker-emails.log" 2>&1 & pids+=($!)
"$BIN/celery" -A config worker -Q timers -c 1 -n "timers@%h" -l INFO >"$RUN/worker-timers.log" 2>&1 & pids+=($!)
"$BIN/celery" -A config beat -l INFO -s "$RUN/celerybeat-schedule" >"$RUN/beat.log" 2>&1 & pids+=($!)

started=$SECONDS
until curl -fsS "http://$GUNICORN_BIND/readyz" >"$RUN/readyz.json" 2>/dev/null; do
  if (( SECONDS - started > 180 )); then echo "not ready after 180 s; see $RUN" >&2; exit 1; fi
  sleep 1
done
echo "ready after $((SECONDS - started)) s: $(cat "$RUN/readyz.json")"
echo "processes: gunicorn ($GUNICORN_WORKERS workers), worker emails, worker timers, beat: pids ${pids[*]}"
if [[ "${1:-}" == "--check" ]]; then
  sleep 10  # a beat tick and the workers' first tasks
  curl -fsS -H "Authorization: Bearer $PPGDID_METRICS_TOKEN" "http://$GUNICORN_BIND/metrics" >"$RUN/metrics.txt"
  grep -E '^(ppgdid_outbox_notifications|ppgdid_overdue_steps|ppgdid_celery_tasks_total|django_http_requests_total_by_method_total)' "$RUN/metrics.txt" | head -20
  echo "beat ticks sent: $(grep -c 'Sending due task' "$RUN/beat.log" || true)"
  exit 0
fi
wait -n "${pids[@]}"
