#!/usr/bin/env bash
# Task scheduler benchmark, durability on, against the seed's design in the same run.
#   Parley: a throwaway parleyd (storage.sync = batch, its default: fsync before every ack) and
#   bench/tasks_load: create throughput; lease+complete cycles/s with 8 workers over HTTP
#   (max_tasks BATCH per lease, COMPLETE_CONNS completes in flight per worker); lateness of
#   10,000 delayed tasks due within one second.
#   PostgreSQL 15: a throwaway cluster on loopback (default durability: fsync on,
#   synchronous_commit on) with the seed's `tasks` table; pgbench (prepared statements) INSERTs
#   for create, and 8 pgbench clients doing the seed's claim (UPDATE ... WHERE id = (SELECT ...
#   FOR UPDATE SKIP LOCKED) RETURNING id) and complete (UPDATE ... 'COMPLETED'), each its own
#   transaction.
# Prints a table: metric, Parley, PostgreSQL, ratio. Goals: lease+complete >= 5x PostgreSQL;
# lateness p99 < 50 ms.
# Usage: bench/tasks.sh [BUILD_DIR]  (a directory holding only node/parleyd and bench/tasks_load,
#   copied from an older build, is run as it is: side-by-side runs)
#   ONLY=parley|pg to run one half; CREATE_TASKS=200000 CONNS=16 BATCH=100 COMPLETE_CONNS=4
#   LATE_TASKS=10000 LATE_SPREAD_MS=1000 LATE_LEAD_SEC=5 PG_ROWS=400000 PG_SECONDS=20
#   PG_CREATE_SECONDS=10 IO_THREADS=2 to change the run.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
build=${1:-build}
only=${ONLY:-}
create_tasks=${CREATE_TASKS:-200000}
conns=${CONNS:-16}
workers=8
batch=${BATCH:-100}
complete_conns=${COMPLETE_CONNS:-4}
late_tasks=${LATE_TASKS:-10000}
late_spread=${LATE_SPREAD_MS:-1000}
late_lead=${LATE_LEAD_SEC:-5}
pg_rows=${PG_ROWS:-400000}
pg_seconds=${PG_SECONDS:-20}
pg_create_seconds=${PG_CREATE_SECONDS:-10}
pg_bin=/usr/lib/postgresql/15/bin
secret="bench-secret-0123456789abcdef"

need_packages curl python3
[[ $only == parley ]] || need_packages postgresql-15
work=$(mktemp -d /tmp/parley-bench-tasks-XXXXXX)
pgwork=""
server=""
# SIGTERM, then SIGKILL if parleyd has not exited after 10 s (its drain takes at most 4 s).
stop_parleyd() {
  [[ -n $server ]] || return 0
  kill "$server" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server" 2>/dev/null; then
    echo "tasks.sh: parleyd did not exit within 10 s of SIGTERM; killing it" >&2
    kill -9 "$server" 2>/dev/null || true
  fi
  wait "$server" 2>/dev/null || true
  server=""
}
cleanup() {
  stop_parleyd
  if [[ -n $pgwork && -f $pgwork/data/postmaster.pid ]]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pgwork/data" -m immediate stop \
      >/dev/null 2>&1 || true
  fi
  wait 2>/dev/null || true
  rm -rf "$work" ${pgwork:+"$pgwork"}
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

# "key" of the first RESULT line of "phase" in file $1, e.g. result parley.txt cycle completes_per_s.
result() {
  awk -v p="$2" -v k="$3" '$1 == "RESULT" && $2 == p {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) { print kv[2]; exit } } }' \
    "$work/$1"
}

echo "== tasks ($(date -u +%FT%TZ), $(nproc) cores)"

# -- Parley ------------------------------------------------------------------------------------
p_create=- p_cycle=- p_cycle_batch=- p_late_p50=- p_late_p99=- p_late_max=- status=0
if [[ $only != pg ]]; then
  if [[ ! -f $build/CMakeCache.txt && -x $build/node/parleyd && -x $build/bench/tasks_load ]]; then
    # A copy of another build's binaries (a side-by-side run against an older commit).
    echo "using the binaries in $build as they are"
  else
    if ! grep -qs '^PARLEY_BUILD_BENCH:BOOL=ON' "$build/CMakeCache.txt"; then
      echo "configuring $build with PARLEY_BUILD_BENCH=ON"
      cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPARLEY_BUILD_BENCH=ON >/dev/null
    fi
    echo "building parleyd and tasks_load in $build"
    if ! cmake --build "$build" -j "$(nproc)" --target parleyd tasks_load \
      >"$work/build.log" 2>&1; then
      tail -30 "$work/build.log" >&2
      echo "tasks.sh: build failed" >&2
      exit 2
    fi
  fi

  port=$(free_port)
  echo "-- parleyd on 127.0.0.1:$port (storage.sync=batch, server.io_threads=${IO_THREADS:-2})"
  # One user creates every task of the run: lift its cap on unfinished tasks (10,000 by default).
  "$build/node/parleyd" --listen 127.0.0.1:$port --data-dir "$work/data" \
    --set auth.jwt_secret=$secret --set server.max_connections_per_ip=0 --set auth.dev_tokens=true --set log.level=warn \
    --set tasks.max_waiting_per_owner=100000000 \
    --set server.io_threads=${IO_THREADS:-2} --set storage.sync=batch >"$work/parleyd.log" 2>&1 &
  server=$!
  wait_http $port || { cat "$work/parleyd.log" >&2; exit 2; }
  url=http://127.0.0.1:$port
  token=$(curl -sf -X POST "$url/api/v1/dev/token" -d '{"user_id":"bench"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  # Fail clearly when this parleyd has no scheduler rather than in the middle of a phase.
  code=$(curl -s -o "$work/probe.json" -w '%{http_code}' -X POST "$url/api/v1/leases" \
    -H "Authorization: Bearer $token" \
    -d '{"worker_id":"probe","task_types":["probe"],"max_tasks":1,"lease_sec":1,"wait_ms":0}')
  if [[ $code != 200 ]]; then
    echo "tasks.sh: $build/node/parleyd has no task scheduler: POST /api/v1/leases answered" \
      "$code $(head -c 300 "$work/probe.json")" >&2
    exit 3
  fi

  phase() {
    local rc
    set +e
    "$build/bench/tasks_load" --url "$url" --token "$token" "$@" | tee -a "$work/parley.txt"
    rc=${PIPESTATUS[0]}
    set -e
    if ((rc == 3 || rc == 2)); then
      echo "tasks.sh: tasks_load $* stopped (exit $rc)" >&2
      exit 3
    fi
    if ((rc != 0)); then
      echo "tasks.sh: tasks_load $* reported errors or missing tasks (exit $rc)" >&2
      status=1
    fi
  }
  echo "-- parleyd: create ($create_tasks tasks, $conns connections)"
  phase --phase create --count "$create_tasks" --connections "$conns"
  echo "-- parleyd: lease+complete ($workers workers, max_tasks $batch," \
    "$complete_conns completes in flight each)"
  phase --phase cycle --count "$create_tasks" --workers $workers --batch "$batch" \
    --complete-conns "$complete_conns"
  echo "-- parleyd: the same with each leased batch completed by one request" \
    "(POST /api/v1/leases/complete)"
  phase --phase create --count "$create_tasks" --connections "$conns"
  phase --phase cycle --count "$create_tasks" --workers $workers --batch "$batch" --complete-batch
  echo "-- parleyd: lateness ($late_tasks delayed tasks due within ${late_spread} ms)"
  phase --phase lateness --count "$late_tasks" --workers $workers --connections "$conns" \
    --spread-ms "$late_spread" --lead-sec "$late_lead"
  curl -s "$url/metrics" | grep -E '^parley_task' | head -24 || true
  p_create=$(result parley.txt create tasks_per_s)
  p_cycle=$(result parley.txt cycle completes_per_s)
  p_cycle_batch=$(result parley.txt cycle_batch completes_per_s)
  p_late_p50=$(result parley.txt lateness p50_ms)
  p_late_p99=$(result parley.txt lateness p99_ms)
  p_late_max=$(result parley.txt lateness max_ms)
  if [[ $(result parley.txt lateness received) == 0 ]]; then
    p_late_p50=- p_late_p99=- p_late_max=-
  fi
  # The machine to PostgreSQL alone.
  stop_parleyd
fi

# -- PostgreSQL 15 ---------------------------------------------------------------------------
pg_create=- pg_create_lat=- pg_cycle=- pg_cycle_lat=-
if [[ $only != parley ]]; then
  as_pg() { runuser -u postgres -- "$@"; }
  pgwork=$(mktemp -d /tmp/parley-bench-pg-XXXXXX)
  chown postgres: "$pgwork"
  pg_port=$(free_port)
  echo "-- PostgreSQL 15 on 127.0.0.1:$pg_port (fsync=on, synchronous_commit=on)"
  # --no-sync only skips initdb's own final flush of the template files; the server below runs
  # with the default durability.
  as_pg "$pg_bin/initdb" -D "$pgwork/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$pgwork/initdb.log"
  as_pg "$pg_bin/pg_ctl" -D "$pgwork/data" -l "$pgwork/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$pgwork" start >/dev/null
  pg() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres "$@"; }
  pg -tA -c "SHOW fsync; SHOW synchronous_commit; SHOW wal_sync_method" | paste -sd' ' |
    sed 's/^/   fsync, synchronous_commit, wal_sync_method: /'

  # The seed's table and claim index.
  pg <<'SQL'
CREATE TABLE tasks (
  id               bigserial PRIMARY KEY,
  task_type        text        NOT NULL,
  payload          jsonb       NOT NULL DEFAULT '{}',
  status           text        NOT NULL DEFAULT 'SCHEDULED',
  priority         int         NOT NULL DEFAULT 0,
  attempt          int         NOT NULL DEFAULT 0,
  max_retries      int         NOT NULL DEFAULT 3,
  next_run_at      timestamptz NOT NULL DEFAULT now(),
  lease_expires_at timestamptz,
  worker_id        text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_claim_idx ON tasks (status, priority DESC, next_run_at);
SQL
  cat >"$pgwork/create.sql" <<'SQL'
\set n random(1, 1000000000)
INSERT INTO tasks (task_type, payload, status, priority, next_run_at)
  VALUES ('bench', jsonb_build_object('n', :n::int), 'SCHEDULED', 0, now());
SQL
  cat >"$pgwork/claim.sql" <<'SQL'
UPDATE tasks SET status = 'RUNNING', attempt = attempt + 1, worker_id = 'pgbench-' || :client_id,
    lease_expires_at = now() + interval '60 seconds', updated_at = now()
  WHERE id = (SELECT id FROM tasks
              WHERE status = 'SCHEDULED' AND next_run_at <= now()
              ORDER BY priority DESC, next_run_at
              LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id \gset
UPDATE tasks SET status = 'COMPLETED', lease_expires_at = NULL, updated_at = now()
  WHERE id = :id;
SQL
  pgbench_run() {  # label, pgbench args...; output in $pgwork/<label>.txt
    local label=$1
    shift
    # Prepared statements, as a worker's driver would use them (the simple protocol re-plans
    # every statement: about 40% fewer cycles/s on this machine).
    if ! pgbench -n -M prepared -h 127.0.0.1 -p "$pg_port" -U postgres -P 5 "$@" postgres \
      >"$pgwork/$label.txt" 2>"$pgwork/$label.err"; then
      cat "$pgwork/$label.txt" "$pgwork/$label.err" >&2
      echo "tasks.sh: pgbench $label failed" >&2
      exit 1
    fi
    grep -E '^progress' "$pgwork/$label.err" | sed 's/^/   /' >&2 || true
  }
  pgbench_result() {  # label: "<tps> <latency average ms>"
    awk '/^latency average/ { lat = $4 } /^tps = / { tps = $3 }
      END { printf "%d %.3f\n", tps, lat }' \
      "$pgwork/$1.txt"
  }
  echo "-- PostgreSQL: create (INSERT, $conns clients, ${pg_create_seconds} s)"
  pgbench_run create -c "$conns" -j 2 -T "$pg_create_seconds" -f "$pgwork/create.sql"
  read -r pg_create pg_create_lat < <(pgbench_result create)
  echo "   $pg_create inserts/s, latency average $pg_create_lat ms"
  have=$(pg -tA -c "SELECT count(*) FROM tasks")
  if ((have < pg_rows)); then
    pg -c "INSERT INTO tasks (task_type, payload, status, next_run_at)
           SELECT 'bench', jsonb_build_object('n', g), 'SCHEDULED', now()
           FROM generate_series(1, $((pg_rows - have))) g"
  fi
  pg -c "VACUUM ANALYZE tasks" -c "CHECKPOINT"
  queued=$(pg -tA -c "SELECT count(*) FROM tasks WHERE status = 'SCHEDULED'")
  echo "-- PostgreSQL: claim+complete (8 clients, ${pg_seconds} s, $queued rows queued)"
  pgbench_run cycle -c 8 -j 2 -T "$pg_seconds" -f "$pgwork/claim.sql"
  read -r pg_cycle pg_cycle_lat < <(pgbench_result cycle)
  echo "   $pg_cycle claim+complete/s, latency average $pg_cycle_lat ms"
  left=$(pg -tA -c "SELECT count(*) FROM tasks WHERE status = 'SCHEDULED'")
  ((left > 0)) || echo "tasks.sh: WARNING: the PostgreSQL queue ran empty; raise PG_ROWS" >&2
  pg -tA -c "SELECT status, count(*) FROM tasks GROUP BY status ORDER BY status" | sed 's/^/   /'
  as_pg "$pg_bin/pg_ctl" -D "$pgwork/data" -m fast stop >/dev/null
fi

# -- summary ------------------------------------------------------------------------------------
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "-" }'
}
echo
printf "%-34s %12s %12s %8s  %s\n" metric Parley PostgreSQL ratio goal
printf "%-34s %12s %12s %8s  %s\n" "create tasks/s" "$p_create" "$pg_create" \
  "$(ratio "$p_create" "$pg_create")" "-"
printf "%-34s %12s %12s %8s  %s\n" "lease+complete cycles/s (8 workers)" "$p_cycle" "$pg_cycle" \
  "$(ratio "$p_cycle" "$pg_cycle")" ">= 5x"
printf "%-34s %12s %12s %8s  %s\n" "  with batch completes" "$p_cycle_batch" "$pg_cycle" \
  "$(ratio "$p_cycle_batch" "$pg_cycle")" ">= 5x"
printf "%-34s %12s %12s %8s  %s\n" "lateness p50 ms (${late_tasks} in 1 s)" "$p_late_p50" - - -
printf "%-34s %12s %12s %8s  %s\n" "lateness p99 ms" "$p_late_p99" - - "< 50 ms"
printf "%-34s %12s %12s %8s  %s\n" "lateness max ms" "$p_late_max" - - -
if [[ $p_cycle != - && $pg_cycle != - ]]; then
  awk -v a="$p_cycle" -v b="$pg_cycle" -v l="$p_late_p99" 'BEGIN {
    printf "goals: lease+complete %.2fx PostgreSQL (>= 5x: %s), lateness p99 %s ms (< 50: %s)\n",
      a / b, (a >= 5 * b) ? "met" : "NOT met", l, (l != "-" && l + 0 < 50) ? "met" : "NOT met" }'
fi
exit $status
