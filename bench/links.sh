#!/usr/bin/env bash
# Redirect benchmark: `wrk -t2 -c256 -d10s` against GET /{key} over 100,000 links on a
# throwaway parleyd, and in the same run against nginx answering `return 302` (throwaway config
# on loopback, keepalive_requests 1000000, access log off); prints both and the ratio.
# Usage: bench/links.sh [BUILD_DIR]    (LINKS=100000 DURATION=10s to change the run;
#        CACHE_ENTRIES=16 leaves the redirect cache one entry per shard, so nearly every
#        redirect misses it and asks the link service: the miss path's cost)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
build=${1:-build}
links=${LINKS:-100000}
duration=${DURATION:-10s}
cache_entries=${CACHE_ENTRIES:-200000}
need_packages wrk nginx-light curl python3
secret="bench-secret-0123456789abcdef"
work=$(mktemp -d /tmp/parley-bench-links-XXXXXX)
parley_port=${PORT:-18383}
nginx_port=$((parley_port + 1))
cleanup() {
  [[ -n ${server:-} ]] && kill "$server" 2>/dev/null || true
  [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

echo "== links: redirects ($(date -u +%FT%TZ), $(nproc) cores, $links links, cache $cache_entries, wrk -t2 -c256 -d$duration)"
"$build/node/parleyd" --listen 127.0.0.1:$parley_port --data-dir "$work/data" \
  --set auth.jwt_secret=$secret --set server.max_connections_per_ip=0 --set auth.dev_tokens=true --set log.level=warn \
  --set server.io_threads=${IO_THREADS:-2} --set storage.sync=batch --set links.cache_entries=$cache_entries &
server=$!
wait_http $parley_port
token=$(curl -sf -X POST "http://127.0.0.1:$parley_port/api/v1/dev/token" \
  -d '{"user_id":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
python3 bench/links_seed.py $parley_port "$token" "$links" "$work/keys.txt"

cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
  uwsgi_temp_path $work; scgi_temp_path $work;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { return 302 https://example.com/articles/1?utm_source=bench; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
wait_http $nginx_port /x || true

export KEYS_FILE=$work/keys.txt
echo "-- warm-up (both, 3 s)"
wrk -t2 -c256 -d3s -s bench/wrk/redirect.lua "http://127.0.0.1:$parley_port" >/dev/null
wrk -t2 -c256 -d3s -s bench/wrk/redirect.lua "http://127.0.0.1:$nginx_port" >/dev/null
echo "-- parleyd"
read -r p_rps p_p50 p_p99 p_bad < <(wrk -t2 -c256 -d"$duration" --latency -s bench/wrk/redirect.lua \
  "http://127.0.0.1:$parley_port" | tee "$work/parley.txt" | wrk_summary)
echo "-- nginx"
read -r n_rps n_p50 n_p99 n_bad < <(wrk -t2 -c256 -d"$duration" --latency -s bench/wrk/redirect.lua \
  "http://127.0.0.1:$nginx_port" | tee "$work/nginx.txt" | wrk_summary)
printf "%-8s %10s %9s %9s %s\n" "server" "req/s" "p50 ms" "p99 ms" "non-3xx"
printf "%-8s %10d %9.3f %9.3f %s\n" parleyd "$p_rps" "$p_p50" "$p_p99" "$p_bad"
printf "%-8s %10d %9.3f %9.3f %s\n" nginx "$n_rps" "$n_p50" "$n_p99" "$n_bad"
awk -v a="$p_rps" -v b="$n_rps" -v c="$p_p99" -v d="$n_p99" 'BEGIN {
  printf "ratio parleyd/nginx: throughput %.2fx (goal >= 0.7x), p99 %.2fx (goal <= 2x)\n", a / b, c / d }'
curl -s "http://127.0.0.1:$parley_port/metrics" | grep -E '^parley_(redirects_total|links_clicks_(dropped|counted)_total)' || true
