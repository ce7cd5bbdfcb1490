#!/usr/bin/env bash
# Cluster benchmark, side by side in one run on this machine (docs/benchmarks.md, "Cluster"):
#   1. the chat benchmark against one node (cluster off) and against three nodes (clients spread
#      over all three, so most conversations have members on two nodes);
#   2. the cross-node hop at light load (bench/cluster_hop.py);
#   3. join: time from starting a fourth node to its /readyz 200 and to a first message sent
#      through it being acknowledged (it takes no partition: no handoff until replication,
#      issue 15) (bench/cluster_join.py);
#   4. time from SIGKILL of a node to every peer seeing it down (lease TTL 3 s);
#   5. time for a restarted node to serve its partitions again.
# Usage: bench/cluster.sh [BUILD_DIR] [--seconds N]   (default 10 s per chat phase)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
build=${1:-build}
shift || true
seconds=10
[ "${1:-}" = "--seconds" ] && seconds=$2
secret="bench-secret-0123456789abcdef"
work=$(mktemp -d /tmp/parley-cluster-bench-XXXXXX)
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

echo "== cluster ($(date -u +%FT%TZ), $(nproc) cores, storage.sync=batch, chat phases ${seconds} s)"

echo "-- one node (cluster.enabled = false)"
port=$(free_port)
"$build/node/parleyd" --listen 127.0.0.1:$port --data-dir "$work/single" "${common[@]}" &
single=$!
pids+=($single)
wait_http $port
"$build/bench/chat_load" --port $port --secret $secret "${chat_args[@]}"
kill -TERM $single; wait $single 2>/dev/null || true

echo "-- three nodes (etcd, cluster.bootstrap_members = 3)"
start_etcd "$work"
declare -a http_ports link_ports node_pids
start_node() {  # start_node INDEX
  local i=$1
  "$build/node/parleyd" --listen 127.0.0.1:${http_ports[$i]} --data-dir "$work/n$i" "${common[@]}" \
    --set cluster.enabled=true --set cluster.node_id=n$i \
    --set cluster.listen=127.0.0.1:${link_ports[$i]} \
    --set "cluster.etcd_endpoints=[\"http://127.0.0.1:$etcd_port\"]" \
    --set cluster.bootstrap_members=3 >"$work/n$i.log" 2>&1 &
  node_pids[$i]=$!
  pids+=(${node_pids[$i]})
}
for i in 1 2 3; do
  http_ports[$i]=$(free_port); link_ports[$i]=$(free_port)
  start_node $i
done
for i in 1 2 3; do wait_http ${http_ports[$i]}; done
"$build/bench/chat_load" --ports ${http_ports[1]},${http_ports[2]},${http_ports[3]} --secret $secret \
  "${chat_args[@]}"

echo "-- cross-node hop at light load"
python3 bench/cluster_hop.py --ports ${http_ports[1]},${http_ports[2]},${http_ports[3]} --secret $secret

echo "-- join (no partition handoff until replication, issue 15): n4 started beside the three"
http_ports[4]=$(free_port); link_ports[4]=$(free_port)
started=$(date +%s%N)
start_node 4
python3 bench/cluster_join.py --port ${http_ports[4]} --secret $secret --started-ns $started

members_seen() {  # members_seen PORT: parley_cluster_members on that node
  curl -sf "http://127.0.0.1:$1/metrics" | awk '$1 == "parley_cluster_members" { print $2 }'
}
echo "-- SIGKILL of n2: time until n1 and n3 see it down (lease TTL 3000 ms)"
start=$(date +%s%N)
kill -9 ${node_pids[2]}
wait ${node_pids[2]} 2>/dev/null || true
until [ "$(members_seen ${http_ports[1]})" = 3 ] && [ "$(members_seen ${http_ports[3]})" = 3 ]; do
  sleep 0.02
done
echo "killed node seen down by every peer after $(( ($(date +%s%N) - start) / 1000000 )) ms"

echo "-- n2 restarted on its data: time until it serves its partitions (readyz 200)"
start=$(date +%s%N)
start_node 2
until curl -sf -o /dev/null "http://127.0.0.1:${http_ports[2]}/readyz"; do sleep 0.02; done
echo "restarted node ready after $(( ($(date +%s%N) - start) / 1000000 )) ms (process start included)"
