#!/usr/bin/env bash
# Rate-limiter benchmarks: (1) the per-check micro-benchmark (Google Benchmark), (2) the
# accuracy replay of the sliding window counter against an exact sliding window, and (3) the
# check API over HTTP (wrk, 50 connections) against Redis running the seed's fixed-window Lua
# script through EVALSHA without pipelining (redis-benchmark, 50 connections), same run, with
# the ratio. Usage: bench/ratelimit.sh [BUILD_DIR]    (DURATION=10s to change the HTTP runs;
#        PARTS=http runs only (3), the parts being micro, accuracy and http; IO_THREADS=2 sets
#        server.io_threads)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
build=${1:-build}
duration=${DURATION:-10s}
parts=${PARTS:-micro,accuracy,http}
need_packages wrk redis-server curl python3
secret="bench-secret-0123456789abcdef"
work=$(mktemp -d /tmp/parley-bench-rl-XXXXXX)
parley_port=${PORT:-18484}
redis_port=$((parley_port + 1))
cleanup() {
  [[ -n ${server:-} ]] && kill "$server" 2>/dev/null || true
  [[ -n ${redis:-} ]] && kill "$redis" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== rate limiter ($(date -u +%FT%TZ), $(nproc) cores)"
if [[ ,$parts, == *,micro,* ]]; then
  echo "-- (1) per-check cost, 1,000,000 distinct keys"
  "$build/bench/limiter_bench" --benchmark_min_time=1 2>/dev/null
fi
if [[ ,$parts, == *,accuracy,* ]]; then
  echo "-- (2) accuracy"
  "$build/bench/limiter_accuracy"
fi
[[ ,$parts, == *,http,* ]] || exit 0

echo "-- (3) check API vs Redis EVALSHA (50 connections, 100,000 keys, fixed window 100/60 s)"
cat > "$work/rules.toml" <<'RULES'
[[rules]]
name = "bench-fixed"
match = { frame = "bench-only" }
key = "global"
algorithm = "fixed_window"
limit = 100
window_sec = 60
RULES
"$build/node/parleyd" --listen 127.0.0.1:$parley_port --data-dir "$work/data" \
  --set auth.jwt_secret=$secret --set server.max_connections_per_ip=0 --set auth.dev_tokens=true --set log.level=warn \
  --set server.io_threads=${IO_THREADS:-2} --set ratelimit.rules_file="$work/rules.toml" &
server=$!
wait_http $parley_port
export TOKEN
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$parley_port/api/v1/dev/token" \
  -d '{"user_id":"billing-service"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
wrk -t2 -c50 -d3s -s bench/wrk/check.lua "http://127.0.0.1:$parley_port" >/dev/null
read -r p_rps p_p50 p_p99 _ < <(wrk -t2 -c50 -d"$duration" --latency -s bench/wrk/check.lua \
  "http://127.0.0.1:$parley_port" | wrk_summary)

redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --logfile "$work/redis.log" &
redis=$!
for _ in $(seq 50); do redis-cli -p $redis_port ping >/dev/null 2>&1 && break; sleep 0.1; done
sha=$(redis-cli -p $redis_port SCRIPT LOAD "local c = redis.call('INCR', KEYS[1]) if c == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end if c > tonumber(ARGV[1]) then return 0 end return 1")
seconds=${duration%s}
r_out=$(redis-benchmark -p $redis_port -c 50 -n $((seconds * 200000)) -r 100000 -q \
  EVALSHA "$sha" 1 "rl:__rand_int__" 100 60 2>/dev/null | tr '\r' '\n' | grep -E "requests per second" | tail -1)
r_rps=$(echo "$r_out" | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
r_p50=$(echo "$r_out" | sed -nE 's/.*p50=([0-9.]+) msec.*/\1/p')
printf "%-18s %10s %9s %9s\n" "" "checks/s" "p50 ms" "p99 ms"
printf "%-18s %10d %9.3f %9.3f\n" "parleyd HTTP" "$p_rps" "$p_p50" "$p_p99"
printf "%-18s %10d %9s %9s\n" "redis EVALSHA" "${r_rps%.*}" "${r_p50:--}" "-"
awk -v a="$p_rps" -v b="$r_rps" 'BEGIN { printf "ratio parleyd/redis: %.2fx (goal >= 1x)\n", a / b }'
