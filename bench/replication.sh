#!/usr/bin/env bash
# Replication benchmark, side by side in one run on this machine (docs/benchmarks.md,
# "Replication"):
#   1. the chat benchmark against three nodes with cluster.replication_factor 1, then against
#      three fresh nodes with factor 2 (clients spread over all three), and the ratios;
#   2. time from SIGKILL of a primary to its partition acknowledging writes again
#      (bench/replication_failover.py);
#   3. catch-up: the partitions the killed node was backup or primary of get new backups, which
#      take the log from lsn 1 (the stores started empty under replication; a log trimmed past
#      lsn 1 would mean a snapshot copy first): bytes sent (records and any copy slices) and
#      time until every partition is backed up again.
# Usage: bench/replication.sh [BUILD_DIR] [--seconds N]   (default 10 s per chat phase)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
build=${1:-build}
shift || true
seconds=10
[ "${1:-}" = "--seconds" ] && seconds=$2
secret="bench-secret-0123456789abcdef"
work=$(mktemp -d /tmp/parley-replication-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"
chat_args=(--seconds "$seconds" --group 100 --history 2000)
common=(--set auth.jwt_secret=$secret --set server.max_connections_per_ip=0 --set log.level=warn
        --set storage.sync=batch)

echo "== replication ($(date -u +%FT%TZ), $(nproc) cores, storage.sync=batch, chat phases ${seconds} s)"
start_etcd "$work"

declare -a http_ports link_ports node_pids
start_cluster() {  # start_cluster FACTOR: three fresh nodes in cluster "f<FACTOR>"
  local factor=$1
  for i in 1 2 3; do
    http_ports[$i]=$(free_port); link_ports[$i]=$(free_port)
    "$build/node/parleyd" --listen 127.0.0.1:${http_ports[$i]} --data-dir "$work/f$factor-n$i" \
      "${common[@]}" --set cluster.enabled=true --set cluster.cluster_id=f$factor \
      --set cluster.node_id=n$i --set cluster.listen=127.0.0.1:${link_ports[$i]} \
      --set "cluster.etcd_endpoints=[\"http://127.0.0.1:$etcd_port\"]" \
      --set cluster.bootstrap_members=3 --set cluster.replication_factor=$factor \
      >"$work/f$factor-n$i.log" 2>&1 &
    node_pids[$i]=$!
    pids+=(${node_pids[$i]})
  done
  for i in 1 2 3; do
    until curl -sf -o /dev/null "http://127.0.0.1:${http_ports[$i]}/readyz"; do sleep 0.05; done
  done
}
metric_sum() {  # metric_sum NAME PORT...: the metric summed over those nodes
  local name=$1 total=0 v
  shift
  for port in "$@"; do
    v=$(curl -sf "http://127.0.0.1:$port/metrics" | awk -v n="parley_$name" '$1 == n { print $2 }' \
        || true)
    total=$(python3 -c "print(${total} + ${v:-0})")
  done
  echo "$total"
}
wait_backed_up() {  # wait_backed_up PORT...: until those nodes' primaries all have caught-up backups
  local n last=-1
  while n=$(metric_sum cluster_partitions_backed_up "$@" | cut -d. -f1); [ "$n" != 256 ]; do
    [ "$n" != "$last" ] && echo "  $n of 256 partitions backed up" >&2
    last=$n
    sleep 0.05
  done
}
stop_cluster() {
  for i in 1 2 3; do kill -TERM ${node_pids[$i]} 2>/dev/null || true; done
  for i in 1 2 3; do wait ${node_pids[$i]} 2>/dev/null || true; done
}

echo "-- three nodes, replication_factor = 1"
start_cluster 1
"$build/bench/chat_load" --ports ${http_ports[1]},${http_ports[2]},${http_ports[3]} \
  --secret $secret "${chat_args[@]}" | tee "$work/f1.out"
stop_cluster

echo "-- three nodes, replication_factor = 2"
start_cluster 2
start=$(date +%s%N)
wait_backed_up ${http_ports[1]} ${http_ports[2]} ${http_ports[3]}
echo "every partition backed up $(( ($(date +%s%N) - start) / 1000000 )) ms after the nodes were ready"
"$build/bench/chat_load" --ports ${http_ports[1]},${http_ports[2]},${http_ports[3]} \
  --secret $secret "${chat_args[@]}" | tee "$work/f2.out"
python3 - "$work/f1.out" "$work/f2.out" <<'PY'
import re, sys
def read(path):
    text = open(path).read()
    rate = float(re.search(r"max sustained delivery: (\d+)", text).group(1))
    p50, p99 = map(float, re.search(r"latency at .*: p50 ([\d.]+) ms, p99 ([\d.]+) ms", text).groups())
    return rate, p50, p99
r1, a1, b1 = read(sys.argv[1])
r2, a2, b2 = read(sys.argv[2])
print(f"factor 2 / factor 1: delivered messages/s {r2:.0f} / {r1:.0f} = {r2 / r1:.2f}x; "
      f"send -> receive p50 {a2:.2f} / {a1:.2f} ms = {a2 / a1:.2f}x, p99 {b2:.2f} / {b1:.2f} ms = {b2 / b1:.2f}x")
PY

echo "-- SIGKILL of n2, a primary: time until its partition acknowledges writes again"
sent_bytes() {  # records shipped and copy slices sent by n1 and n3
  python3 -c "print($(metric_sum replication_bytes_shipped_total ${http_ports[1]} ${http_ports[3]}) + $(metric_sum replication_copy_bytes_total ${http_ports[1]} ${http_ports[3]}))"
}
shipped_before=$(sent_bytes)
start=$(date +%s%N)  # the kill follows within a few probe sends
python3 bench/replication_failover.py --port ${http_ports[1]} --victim-node n2 \
  --victim-pid ${node_pids[2]} --secret $secret
echo "-- catch-up: new backups for n2's partitions (the log from lsn 1, or a copy first where it was trimmed)"
wait_backed_up ${http_ports[1]} ${http_ports[3]}
ms=$(( ($(date +%s%N) - start) / 1000000 ))
shipped=$(sent_bytes)
python3 -c "b = $shipped - $shipped_before; s = max($ms, 1) / 1000
print(f'every partition backed up again {$ms} ms after the kill: {b / 1e6:.1f} MB sent, {b / 1e6 / s:.1f} MB/s')"
