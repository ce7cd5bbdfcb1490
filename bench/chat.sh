#!/usr/bin/env bash
# Chat benchmark: starts a throwaway parleyd with durability on (storage.sync = batch) and runs
# bench/chat_load against it. Usage: bench/chat.sh [BUILD_DIR] [chat_load options]
# SERVER_ARGS adds parleyd options, e.g. SERVER_ARGS="--set runtime.scheduler_policy=stealing".
set -euo pipefail
build=${1:-build}
shift || true
secret="bench-secret-0123456789abcdef"
data=$(mktemp -d /tmp/parley-bench-XXXXXX)
port=${PORT:-18282}
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"' EXIT

ulimit -n "$(ulimit -Hn)"
echo "== chat ($(date -u +%FT%TZ), $(nproc) cores, storage.sync=batch)"
"$build/node/parleyd" --listen 127.0.0.1:$port --data-dir "$data" \
  --set auth.jwt_secret=$secret --set server.max_connections_per_ip=0 --set log.level=warn --set storage.sync=batch \
  ${SERVER_ARGS:-} &
server=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
"$build/bench/chat_load" --port $port --secret $secret "$@"
