# Shared helpers of the benchmark scripts (sourced).

# Installs the Debian packages a benchmark needs, if missing (wrk, nginx-light, redis-server).
need_packages() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
  fi
}

# Waits until http://127.0.0.1:$1$2 answers (default /readyz).
wait_http() {
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$1${2:-/readyz}" && return 0; sleep 0.1; done
  echo "nothing answers on port $1" >&2
  return 1
}

# From wrk --latency output on stdin: "<requests/s> <p50 ms> <p99 ms>".
wrk_summary() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v
    }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses/ { bad = $NF }
    END { printf "%d %.3f %.3f %d\n", rps, p50, p99, bad }'
}

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts one etcd member on free loopback ports with its data under $1, adds its pid to the
# caller's `pids` array, waits for it to answer and sets `etcd_port` (its client port).
start_etcd() {
  local dir=$1 peer
  etcd_port=$(free_port)
  peer=$(free_port)
  etcd --name bench --data-dir "$dir/etcd" \
    --listen-client-urls http://127.0.0.1:$etcd_port --advertise-client-urls http://127.0.0.1:$etcd_port \
    --listen-peer-urls http://127.0.0.1:$peer --initial-advertise-peer-urls http://127.0.0.1:$peer \
    --initial-cluster bench=http://127.0.0.1:$peer >"$dir/etcd.log" 2>&1 &
  pids+=($!)
  wait_http $etcd_port /health
}
