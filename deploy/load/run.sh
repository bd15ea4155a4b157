#!/usr/bin/env bash
# The load test, end to end: a fresh PostgreSQL database, the synthetic territory (generate_territory),
# work items for the load accounts (prepare_load), the production stack (deploy/run-local-stack.sh:
# gunicorn, two Celery workers, beat), locust headless, then the figures: requests/s, p95 per request
# kind, errors, the outbox backlog after the run, the load average.
#
#   bash deploy/load/run.sh                        # 100,000 cases, 20 users, 3 minutes
#   LOAD_CASES=10000 LOAD_USERS_N=20 LOAD_TIME=3m bash deploy/load/run.sh
#   LOAD_REUSE=1 bash deploy/load/run.sh           # keep the database of the previous run (no generation)
#   LOAD_PREPARED=users.json                       # with LOAD_REUSE: work items already prepared
#   LOAD_WARMUP=600                                # at most this long for the first sweeps' e-mails to drain
#
# Needs PostgreSQL and Redis on loopback (PGHOST/PGUSER, LOAD_REDIS), the project's venv (PY, with
# gunicorn: the "prod" extra) and locust (the "load" extra; LOCUST, default: locust next to PY, else on PATH).
# Never point it at a real database: it writes and moves cases on.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
CASES=${LOAD_CASES:-100000}
USERS=${LOAD_USERS_N:-20}
SPAWN=${LOAD_SPAWN_RATE:-2}
TIME=${LOAD_TIME:-3m}
DB=${LOAD_DB:-ppgdid_load_${CASES}}
PGHOST=${PGHOST:-127.0.0.1}
PGUSER=${PGUSER:-postgres}
REDIS=${LOAD_REDIS:-redis://127.0.0.1:6379}
LOCUST=${LOCUST:-$(dirname "$PY")/locust}
[[ -x "$LOCUST" ]] || LOCUST=$(command -v locust) || { echo "locust not found: pip install '.[load]' or set LOCUST" >&2; exit 1; }
OUT=${LOAD_OUT:-bench-results/load-$(date -u +%Y%m%dT%H%M)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export DATABASE_URL="postgres://$PGUSER@$PGHOST:5432/$DB"
export CELERY_BROKER_URL="$REDIS/${LOAD_REDIS_DB:-11}"
export DJANGO_CACHE_URL="$REDIS/${LOAD_CACHE_DB:-12}"  # shared by the gunicorn workers (sign-in counts)
export PY

if [[ "${LOAD_REUSE:-0}" != 1 ]]; then
  psql -h "$PGHOST" -U "$PGUSER" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
  "$PY" manage.py migrate --noinput -v0
  started=$SECONDS
  "$PY" manage.py generate_territory --cases "$CASES" --quiet | tee "$OUT/generate.txt"
  echo "generated $CASES cases in $((SECONDS - started)) s"
fi
# Work items: each account its own steps (about one diagnostic or proposal per 10 s per user).
per_user=${LOAD_PER_USER:-12}
if [[ -n "${LOAD_PREPARED:-}" ]]; then  # a users.json prepare_load wrote for this database (items still open)
  cp "$LOAD_PREPARED" "$OUT/users.json"
else
  "$PY" manage.py prepare_load --social $((USERS * 2 / 5)) --commission $((USERS * 3 / 10)) \
    --landlords $((USERS - USERS * 2 / 5 - USERS * 3 / 10)) --per-user "$per_user" --out "$OUT/users.json"
fi

# The outbox (notifications.Notification) and the effects of the run, counted in the database.
counts() {
  psql -h "$PGHOST" -U "$PGUSER" -d "$DB" -Atc "
    SELECT 'outbox pending=' || count(*) FILTER (WHERE status = 'pending')
        || ' failed=' || count(*) FILTER (WHERE status = 'failed')
        || ' sent=' || count(*) FILTER (WHERE status = 'sent') FROM notifications_notification;
    SELECT 'diagnostics completed=' || count(*) FROM cases_diagnostic WHERE completed_at IS NOT NULL;
    SELECT 'proposals=' || count(*) FROM cases_proposal;
    SELECT 'votes=' || count(*) FROM committees_vote;"
}
counts | tee "$OUT/before.txt"

run_locust() {
  # Warm-up: the beat's first sweeps over a generated territory (every step overdue by construction) send
  # thousands of e-mails; wait until the outbox has stayed empty twice in a row (LOAD_WARMUP seconds at most,
  # 0 to skip) so the run measures the pages, not that backlog.
  local waited=0 empty=0
  while (( waited < ${LOAD_WARMUP:-600} && empty < 2 )); do
    sleep 15; waited=$((waited + 15))
    if counts | head -1 | grep -q 'pending=0 '; then empty=$((empty + 1)); else empty=0; fi
  done
  echo "warm-up: ${waited} s, $(counts | head -1)"
  echo "locust: $USERS users (spawn $SPAWN/s) for $TIME against $STACK_URL"
  uptime | tee "$OUT/uptime-before.txt"
  local status=0
  LOAD_USERS="$OUT/users.json" "$LOCUST" -f deploy/load/locustfile.py --host "$STACK_URL" --headless \
    -u "$USERS" -r "$SPAWN" -t "$TIME" --stop-timeout 30 --only-summary \
    --csv "$OUT/locust" >"$OUT/locust.txt" 2>&1 || status=$?
  uptime | tee "$OUT/uptime-after.txt"
  # The backlog right after the run, then once the workers have had 30 s to drain it.
  echo "right after the run: $(counts | head -1)"
  sleep 30
  echo "30 s later:          $(counts | head -1)"
  cp -r "$STACK_RUN"/*.log "$OUT/" 2>/dev/null || true
  return $status
}
export -f run_locust counts
export OUT DB PGHOST PGUSER USERS SPAWN TIME LOCUST LOAD_WARMUP
status=0
bash deploy/run-local-stack.sh -- bash -c run_locust 2>&1 | tee "$OUT/stack.txt" || status=$?

echo
echo "== effects (before -> after)"
paste -d'|' "$OUT/before.txt" <(counts) | sed 's/|/  ->  /'
echo
echo "== figures ($CASES cases, $USERS users, $TIME, gunicorn ${GUNICORN_WORKERS:-3} workers; $(nproc) CPUs)"
"$PY" - "$OUT/locust_stats.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'request':<36} {'count':>6} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'req/s':>6}")
for r in rows:
    print(f"{r['Name']:<36} {r['Request Count']:>6} {r['Failure Count']:>5} {r['50%']:>7} {r['95%']:>7} "
          f"{float(r['Max Response Time']):>7.0f} {float(r['Requests/s']):>6.2f}")
total = next(r for r in rows if r["Name"] == "Aggregated")
errors = int(total["Failure Count"]) / max(1, int(total["Request Count"]))
print(f"\nthroughput {float(total['Requests/s']):.1f} req/s, p95 {total['95%']} ms, error rate {errors:.2%}")
EOF
echo "load average: before $(sed "s/.*average: //" "$OUT/uptime-before.txt"), after $(sed 's/.*average: //' "$OUT/uptime-after.txt")"
if [[ -s "$OUT/locust_failures.csv" ]] && (( $(wc -l <"$OUT/locust_failures.csv") > 1 )); then
  echo "failures:"; cat "$OUT/locust_failures.csv"
fi
d=$(sed -n 's/.*logs in \(.*\))$/\1/p' "$OUT/stack.txt" | tail -1)
# gunicorn's own time per request (access log, %(M)s): without the wait for a free worker.
grep -ohE '" [0-9]{3} [0-9-]+ [0-9]+ms' "$OUT/web.log" | awk '{gsub("ms","",$4); print $4}' | sort -n |
  awk '{a[NR]=$1} END {if (NR) print "server time (gunicorn access log): n=" NR " p50=" a[int(NR*0.5)] " ms p95=" a[int(NR*0.95)] " ms"}'
echo "(all files in $OUT${d:+; stack logs in $d})"
exit $status
