#!/usr/bin/env bash
# Runs every benchmark in bench/ in turn; see docs/benchmarks.md for recorded results.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/ws_memory.sh build
bash bench/chat.sh build
bash bench/links.sh build
bash bench/ratelimit.sh build
bash bench/tasks.sh build
bash bench/feed.sh build
bash bench/cluster.sh build
bash bench/replication.sh build
