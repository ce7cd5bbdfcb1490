#!/usr/bin/env bash
# Memory per idle WebSocket connection: starts a throwaway parleyd, opens 1k/5k/10k/19k
# authenticated idle connections against it (bench/ws_load sockets) and reports the server's
# RSS per connection; then measures connection actors without sockets (ws_load actors).
# Usage: bench/ws_memory.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
secret="bench-secret-0123456789abcdef"
data=$(mktemp -d /tmp/parley-bench-XXXXXX)
port=${PORT:-18181}
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"' EXIT

ulimit -n "$(ulimit -Hn)"
echo "== memory per idle WebSocket connection ($(date -u +%FT%TZ), $(nproc) cores)"
env ${SERVER_ENV:-} "$build/node/parleyd" --listen 127.0.0.1:$port --data-dir "$data" \
  --set auth.jwt_secret=$secret --set server.max_connections_per_ip=0 --set ws.idle_timeout_sec=3600 --set log.level=warn &
server=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
"$build/bench/ws_load" sockets --port $port --server-pid $server --secret $secret \
  --stages "${STAGES:-1000,5000,10000,19000}"
kill -TERM $server; wait $server || true

echo "== connection actors without sockets"
"$build/bench/ws_load" actors --count "${ACTORS:-1000000}"
