#!/usr/bin/env bash
# News feed benchmark (issue 6), Parley and the seed's Redis feed insert in the same run.
#   1. bench/feed_load seed writes a 1,000,000-user graph into a fresh data directory
#      (bench/feed_load.cpp has the exact shape: 5,000 normal authors with 100-300 followers,
#      20 celebrities with 100k-1M followers, 1,000 readers following 200 + 20).
#   2. A throwaway parleyd on that directory (storage.sync = batch, its default: posts are
#      durable before the ack; feed.celebrity_threshold = 10000, the default).
#   3. feed_load run: activate (100,000 returning users read: rebuilds), fanout (5,000 posts of
#      normal authors: feed inserts/s), celebrity (posts of the 1M-follower author: ack and
#      visibility latency), read (ranked and chronological pages of the readers: p50/p99).
#   4. A throwaway redis-server (no persistence) and feed_load redis: the same number of feed
#      inserts as the fanout phase, ZADD + ZREMRANGEBYRANK, 16 per pipelined batch.
# Prints a table with the ratio fan-out / Redis. Goals: ratio >= 1; celebrity ack < 10 ms; read
# p99 < 5 ms.
# Usage: bench/feed.sh [BUILD_DIR]    (KEEP_DATA=dir reuses/keeps a seeded directory)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
build=${1:-build}
secret="bench-secret-0123456789abcdef"
need_packages redis-server curl
work=$(mktemp -d /tmp/parley-bench-feed-XXXXXX)
data=${KEEP_DATA:-$work/data}
server="" redis=""
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null || true
  [[ -n $redis ]] && kill "$redis" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

result() {
  awk -v p="$2" -v k="$3" '$1 == "RESULT" && $2 == p {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) { print kv[2]; exit } } }' \
    "$work/$1"
}

echo "== feed ($(date -u +%FT%TZ), $(nproc) cores)"
if ! grep -qs '^PARLEY_BUILD_BENCH:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "configuring $build with PARLEY_BUILD_BENCH=ON"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPARLEY_BUILD_BENCH=ON >/dev/null
fi
echo "building parleyd and feed_load in $build"
if ! cmake --build "$build" -j "$(nproc)" --target parleyd feed_load >"$work/build.log" 2>&1; then
  tail -30 "$work/build.log" >&2
  echo "feed.sh: build failed" >&2
  exit 2
fi

if [[ -d $data ]]; then
  echo "-- reusing the seeded graph in $data"
else
  echo "-- seeding the 1,000,000-user graph into $data"
  "$build/bench/feed_load" seed --data-dir "$data" | tee "$work/seed.txt"
fi

port=$(free_port)
echo "-- parleyd on 127.0.0.1:$port (storage.sync=batch, block cache 1 GiB)"
"$build/node/parleyd" --listen 127.0.0.1:$port --data-dir "$data" \
  --set auth.jwt_secret=$secret --set server.max_connections_per_ip=0 --set log.level=warn --set 'ratelimit.rules_file=""' \
  --set storage.block_cache_mb=1024 --set storage.sync=batch >"$work/parleyd.log" 2>&1 &
server=$!
wait_http $port || { cat "$work/parleyd.log" >&2; exit 2; }
"$build/bench/feed_load" run --url "http://127.0.0.1:$port" --secret "$secret" |
  tee "$work/parley.txt"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^parley_(feed|process_resident)' || true
kill "$server"; wait "$server" 2>/dev/null || true; server=""

inserts=$(result parley.txt fanout inserts)
redis_port=$(free_port)
echo "-- redis-server on 127.0.0.1:$redis_port (no persistence): $inserts feed inserts"
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --logfile "$work/redis.log" &
redis=$!
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
"$build/bench/feed_load" redis --port "$redis_port" --inserts "$inserts" | tee "$work/redis.txt"

p_fan=$(result parley.txt fanout inserts_per_s)
r_fan=$(result redis.txt redis inserts_per_s)
echo
printf "%-44s %12s %12s %8s\n" metric parley redis ratio
printf "%-44s %12s %12s %8s\n" "fan-out feed inserts/s" "$p_fan" "$r_fan" \
  "$(awk -v a="$p_fan" -v b="$r_fan" 'BEGIN { printf "%.2fx", a / b }')"
printf "%-44s %12s\n" "celebrity (1M followers) post ack p50/p99 ms" \
  "$(result parley.txt celebrity ack_p50_ms)/$(result parley.txt celebrity ack_p99_ms)"
printf "%-44s %12s\n" "celebrity post in a follower's feed p50/p99 ms" \
  "$(result parley.txt celebrity visible_p50_ms)/$(result parley.txt celebrity visible_p99_ms)"
printf "%-44s %12s\n" "feed read ranked p50/p99 ms" \
  "$(result parley.txt read_ranked p50_ms)/$(result parley.txt read_ranked p99_ms)"
printf "%-44s %12s\n" "feed read chronological p50/p99 ms" \
  "$(result parley.txt read_chronological p50_ms)/$(result parley.txt read_chronological p99_ms)"
printf "%-44s %12s\n" "returning user (rebuild) read p50/p99 ms" \
  "$(result parley.txt activate p50_ms)/$(result parley.txt activate p99_ms)"
echo "goals: fan-out ratio >= 1x; celebrity ack < 10 ms; read p99 < 5 ms"
