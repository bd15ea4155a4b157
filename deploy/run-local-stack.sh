#!/usr/bin/env bash
# The whole production stack on one machine, with the same commands and queues as deploy/systemd and
# deploy/compose.yaml: gunicorn (GUNICORN_WORKERS, default 3; static files by WhiteNoise), a Celery
# worker on "emails", one on "timers", one beat, config.settings.prod (DEBUG off), against the local
# PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL; DJANGO_CACHE_URL for the shared cache).
# Migrates, collects the static files, starts the five processes, waits for /readyz, prints what runs,
# then:
#   (no argument)   runs until Ctrl-C or until one process dies;
#   --check         scrapes /metrics once and stops;
#   -- CMD ARGS…    runs CMD once the stack is ready (STACK_URL is set for it), then stops; exits with
#                   CMD's status (deploy/load/run.sh runs locust this way).
# Every process it started is stopped on exit (trap), and only those.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppgdid CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
#     bash deploy/run-local-stack.sh [--check | -- CMD …]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=$(dirname "$PY")
RUN=$(mktemp -d -t ppgdid-stack.XXXXXX)
export DJANGO_SETTINGS_MODULE=config.settings.prod
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$(head -c 48 /dev/urandom | base64 | tr -d "\n")}  # this run only
export DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}
export DJANGO_SECURE_SSL_REDIRECT=${DJANGO_SECURE_SSL_REDIRECT:-0}  # plain HTTP on loopback
export DJANGO_EMAIL_BACKEND=${DJANGO_EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}
export DJANGO_EMAIL_FILE_PATH=${DJANGO_EMAIL_FILE_PATH:-$RUN/mail}  # no mail server here: the e-mails land in files
export GUNICORN_BIND=${GUNICORN_BIND:-127.0.0.1:8017}
export GUNICORN_WORKERS=${GUNICORN_WORKERS:-3}
export PPGDID_METRICS_TOKEN=${PPGDID_METRICS_TOKEN:-local-$RANDOM$RANDOM}
export PROMETHEUS_MULTIPROC_DIR="$RUN/metrics"  # every process's counters, summed by /metrics
export PPGDID_LOG_FORMAT=${PPGDID_LOG_FORMAT:-json}
: "${DATABASE_URL:?set DATABASE_URL}" "${CELERY_BROKER_URL:?set CELERY_BROKER_URL}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR" "$DJANGO_EMAIL_FILE_PATH"
export STACK_URL="http://$GUNICORN_BIND" STACK_RUN="$RUN"

mode=serve
if [[ "${1:-}" == "--check" ]]; then mode=check; shift; fi
if [[ "${1:-}" == "--" ]]; then mode=command; shift; fi

pids=()
names=()
stop() {
  local status=$?
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local started=$SECONDS
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stack stopped in $((SECONDS - started)) s (logs in $RUN)"
  exit "$status"
}
trap stop INT TERM EXIT
start() {  # start NAME CMD…: in the background, output to $RUN/NAME.log
  local name=$1
  shift
  "$@" >"$RUN/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

if ! "$PY" manage.py check --deploy --fail-level ERROR >"$RUN/check.log" 2>&1; then cat "$RUN/check.log" >&2; exit 1; fi
echo "check --deploy: no error; warnings: $(grep -oE '^\?: \(security\.W[0-9]+\)' "$RUN/check.log" | tr -d '?:() ' | tr '\n' ' ')"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
start web "$BIN/gunicorn" -c deploy/gunicorn.conf.py config.wsgi
start worker-emails "$BIN/celery" -A config worker -Q emails -c 2 -n "emails@%h" -l INFO
start worker-timers "$BIN/celery" -A config worker -Q timers -c 1 -n "timers@%h" -l INFO
start beat "$BIN/celery" -A config beat -l INFO -s "$RUN/celerybeat-schedule"

started=$SECONDS
until curl -fsS "$STACK_URL/readyz" >"$RUN/readyz.json" 2>/dev/null; do
  if (( SECONDS - started > 180 )); then echo "not ready after 180 s; see $RUN" >&2; exit 1; fi
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "${names[$i]} exited before the stack was ready:" >&2
      tail -20 "$RUN/${names[$i]}.log" >&2
      exit 1
    fi
  done
  sleep 1
done
echo "ready after $((SECONDS - started)) s: $STACK_URL/readyz $(cat "$RUN/readyz.json")"
static=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$STACK_URL/static/css/app.css" || true)
echo "static file by WhiteNoise (DEBUG off): /static/css/app.css -> $static"
# The Celery workers say "ready" once connected to the broker with their queues.
for name in worker-emails worker-timers; do
  until grep -q "ready\." "$RUN/$name.log"; do
    if (( SECONDS - started > 180 )); then echo "$name not ready; see $RUN/$name.log" >&2; exit 1; fi
    sleep 1
  done
done
echo "running (settings $DJANGO_SETTINGS_MODULE, database ${DATABASE_URL##*/}, broker $CELERY_BROKER_URL):"
for i in "${!pids[@]}"; do
  printf '  %-14s pid %-7s %s\n' "${names[$i]}" "${pids[$i]}" "$(ps -o args= -p "${pids[$i]}" | cut -c1-110)"
done
echo "  gunicorn workers: $(pgrep -P "${pids[0]}" | wc -l) (pids $(pgrep -P "${pids[0]}" | tr '\n' ' '))"
for name in worker-emails worker-timers; do
  echo "  $name queues: $(grep -A3 '\[queues\]' "$RUN/$name.log" | grep -oE '^\s*\.> \S+' | tr -d ' .>' | tr '\n' ' ')"
done

echo "  beat scheduler: $(grep -oE 'scheduler -> \S+' "$RUN/beat.log" || echo '?')"

case $mode in
  check)
    sleep 10  # a beat tick and the workers' first tasks
    curl -fsS -H "Authorization: Bearer $PPGDID_METRICS_TOKEN" "$STACK_URL/metrics" >"$RUN/metrics.txt"
    grep -E '^(ppgdid_outbox_notifications|ppgdid_overdue_steps|ppgdid_celery_tasks_total|django_http_requests_total_by_method_total)' "$RUN/metrics.txt" | head -20
    echo "beat ticks sent: $(grep -c 'Sending due task' "$RUN/beat.log" || true)"
    ;;
  command)
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  serve)
    wait -n "${pids[@]}"
    ;;
esac
