#!/usr/bin/env bash
# The worst legal JSON bodies: how long one 1 MiB request body can hold an io thread while it is
# parsed (issue: deep nesting once held a node for minutes). Starts a throwaway parleyd, posts
# each shape of body three times to POST /api/v1/tasks (payload is free-form JSON) and prints the
# server time of each (curl's time from the request's start to the end of the answer, upload included).
#   bash bench/json_bodies.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
build=${1:-build}
port=$(free_port)
work=$(mktemp -d)
secret=bench-secret-0123456789
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
"$build/node/parleyd" --listen 127.0.0.1:$port --data-dir "$work/data" \
  --set auth.jwt_secret=$secret --set auth.dev_tokens=true --set log.level=warn \
  --set tasks.max_payload_bytes=1048576 --set storage.sync=none &
pid=$!
wait_http $port
token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/dev/token" -d '{"user_id":"bench"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
limit = (1 << 20) - 200  # room for the envelope within http.body_limit_bytes (1 MiB)
def fill(unit, sep=","):
    n = limit // (len(unit) + len(sep))
    return "[" + sep.join([unit] * n) + "]"
nest = lambda d: "[" * d + "]" * d
shapes = {
    "numbers [0,0,...] (524k elements)": fill("0"),
    "nesting 30 deep, repeated": fill(nest(30)),
    "nesting 63 deep, repeated (refused: Value depth)": fill(nest(63)),
    "nesting 65 deep (refused before parsing)": fill(nest(65)),
    "objects {\"k\":1} (90k)": fill('{"k":1}'),
    "one string of \\u escapes": json.dumps("\u0001" * (limit // 6)),
    "strings of 100 chars": fill(json.dumps("x" * 100)),
}
for i, (name, payload) in enumerate(shapes.items()):
    with open(f"{work}/body{i}.json", "w") as f:
        f.write('{"task_type":"bench","payload":' + payload + '}')
    with open(f"{work}/name{i}", "w") as f:
        f.write(name)
PY

echo "machine: $(nproc) cores, $(date -u +%F); parleyd $(git rev-parse --short HEAD)"
printf "%-48s %8s %6s  %-20s %s\n" "body (1 MiB)" "bytes" "status" "server ms (3 runs)" \
  "healthz max ms meanwhile"
for body in "$work"/body*.json; do
  i=${body##*/body}; i=${i%.json}
  times=() status= healthz=0
  for _ in 1 2 3; do
    # Meanwhile another client asks /healthz: its worst latency shows whether an io thread was
    # held by the parse.
    (
      worst=0
      for _ in $(seq 40); do
        t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/healthz")
        worst=$(python3 -c "print(max($worst, $t))")
        sleep 0.01
      done
      echo "$worst" >"$work/healthz"
    ) &
    probe=$!
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_pretransfer} %{time_total}' \
      -X POST "http://127.0.0.1:$port/api/v1/tasks" -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' -H 'Expect:' --data-binary @"$body")
    wait $probe
    read -r status pre total <<<"$out"
    times+=("$(python3 -c "print(f'{($total - $pre) * 1000:.1f}')")")
    healthz=$(python3 -c "print(max($healthz, $(cat "$work/healthz")))")
  done
  printf "%-48s %8d %6s  %-20s %.1f\n" "$(cat "$work/name$i")" "$(stat -c %s "$body")" "$status" \
    "${times[*]}" "$(python3 -c "print($healthz * 1000)")"
done
