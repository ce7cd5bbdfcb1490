#!/usr/bin/env bash
# `make cluster`: one etcd and three parleyd nodes on 127.0.0.1-3 (configs/cluster/n1-3.toml), in
# the foreground with each node's log lines prefixed by its name. Ctrl-C, or any of them exiting,
# stops them all. Data in ./data/etcd and ./data/n1-3 (kept between runs; delete ./data to start
# afresh), etcd's own log in ./data/etcd.log.
set -euo pipefail
cd "$(dirname "$0")/.."

PARLEYD=${PARLEYD:-${BUILD_DIR:-build}/node/parleyd}
ETCD=${ETCD:-etcd}
ETCD_URL=http://127.0.0.1:2379
NODES=(1 2 3)

command -v "$ETCD" >/dev/null || { echo "cluster: $ETCD not found (Debian: etcd-server)" >&2; exit 1; }
[ -x "$PARLEYD" ] || { echo "cluster: $PARLEYD not built (make build)" >&2; exit 1; }
if curl -sf "$ETCD_URL/health" >/dev/null 2>&1; then
  echo "cluster: something already answers at $ETCD_URL; stop it first" >&2
  exit 1
fi

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

mkdir -p data/etcd
"$ETCD" --name parley-dev --data-dir data/etcd \
  --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster parley-dev=http://127.0.0.1:2380 >data/etcd.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -sf "$ETCD_URL/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$ETCD_URL/health" >/dev/null || { echo "cluster: etcd did not start (data/etcd.log)" >&2; exit 1; }

for n in "${NODES[@]}"; do
  # Process substitution keeps $! the node's pid while its lines get a prefix.
  "$PARLEYD" --config "configs/cluster/n$n.toml" > >(sed -u "s/^/[n$n] /") 2>&1 &
  pids+=($!)
done

echo "Parley cluster: etcd $ETCD_URL, three nodes (chat client /, health /healthz, metrics /metrics):"
for n in "${NODES[@]}"; do
  echo "  n$n  http://127.0.0.$n:8080   ws://127.0.0.$n:8080/ws   peer link 127.0.0.$n:9080"
done
echo "Ctrl-C stops them all."
# The first of them to exit (or a Ctrl-C) ends the run; the trap stops the rest.
wait -n "${pids[@]}" || true
