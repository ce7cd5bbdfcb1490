#!/usr/bin/env bash
# ws.permessage_deflate off and on: memory per idle connection and bytes on the wire for a chat
# burst (bench/ws_deflate.mjs; npm `ws` from tests/e2e). Usage: bench/ws_deflate.sh [BUILD_DIR] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)"
make --no-print-directory e2e-deps
exec node bench/ws_deflate.mjs "${1:-build}" "${2:-2000}"
