#!/usr/bin/env bash
# Installs the Debian packages Parley builds, tests and benchmarks with.
# Idempotent: asks apt only for what is missing, and runs `apt-get update` only then.
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  libcaf-dev
  libboost-dev libboost-system-dev
  librocksdb-dev
  libprotobuf-dev protobuf-compiler
  catch2
  libssl-dev
  zlib1g-dev   # permessage-deflate
  libtomlplusplus-dev
  libspdlog-dev libfmt-dev
  libcli11-dev
  libbenchmark-dev
  curl
  # The cluster's coordinator (docs/cluster.md); tests start their own etcd on free ports, so the
  # service the package may enable on 2379 is never used by them.
  etcd-server etcd-client
  chromium   # the browser test of the web client (driven by npm playwright-core)
)

# Node.js and npm drive the end-to-end tests; a machine may already have them from elsewhere.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
