# Parley: the two commands of the README, plus build and bench.
#   make run    install missing packages, build, start one node on 127.0.0.1:8080 (data in ./data)
#   make test   install missing packages, build, run the whole test suite through ctest
#   make test-asan  unit and integration tests built with AddressSanitizer and UBSan (build-asan)
#   make checker  the replication checker (cluster_checker_test), 60 s of faults; needs root
#   make soak   the same with 10 minutes of faults
#   make cluster  build, then one etcd and three nodes on 127.0.0.1-3 (configs/cluster/, data in ./data)
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CONFIG ?= configs/node.toml

.PHONY: all deps configure build run cluster test test-asan checker soak bench e2e-deps clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DPARLEY_BUILD_BENCH=ON >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@echo "Parley node: http://127.0.0.1:8080  (chat client /, health /healthz, metrics /metrics, WebSocket ws://127.0.0.1:8080/ws)"
	@exec $(BUILD_DIR)/node/parleyd --config $(CONFIG)

# scripts/cluster.sh prints the URLs to open and stops everything on Ctrl-C.
cluster: build
	@BUILD_DIR=$(BUILD_DIR) exec bash scripts/cluster.sh

# npm packages of the end-to-end tests (the `ws` client) and of the JavaScript SDK (tsc, ws),
# from their lock files; nothing is fetched once they are installed.
e2e-deps:
# npm ci runs when node_modules is missing or its lock file changed since (offline afterwards).
	@cd tests/e2e && { [ -f node_modules/.package-lock.json ] && ! [ package-lock.json -nt node_modules/.package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }
	@cd clients/js && { [ -f node_modules/.package-lock.json ] && ! [ package-lock.json -nt node_modules/.package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }

# The replication checker (cluster_checker_test, 60 s of faults) is part of it and runs alone
# (RUN_SERIAL); `make checker` runs just it, `make soak` for SOAK_SECONDS.
test: build e2e-deps
	@cd $(BUILD_DIR) && ctest --output-on-failure -j 2

checker: build
	@$(BUILD_DIR)/tests/cluster_checker_test --durations yes

# Sanitizer builds: a build folder of their own, only the Catch2 test binaries, -O1 with line tables
# and asserts on. The e2e suites (parleyd driven by node), cluster_nodes_test (parleyd
# processes, killed and restarted), cluster_faults_test (the same in network namespaces) and
# cluster_checker_test (the replication checker, also in namespaces) are
# left out: see README, Tests. Left out, a test binary would
# be listed as <name>_NOT_BUILT and fail, so the ctest line excludes it by name.
# tests/sanitizers/env.sh sets the runtime options, also at build time: catch_discover_tests
# runs each binary to list its tests. No ThreadSanitizer target yet: docs/testing.md says why.
SANITIZER_TESTS = common_test storage_test actors_test cluster_placement_test cluster_routes_test cluster_test \
                  cluster_replication_test \
                  cluster_link_test net_test node_test integration_test
SANITIZER_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
                  -DPARLEY_BUILD_BENCH=OFF

test-asan: deps
	@cmake -S . -B build-asan $(SANITIZER_FLAGS) -DPARLEY_SANITIZE="address;undefined" >/dev/null
	@. tests/sanitizers/env.sh && cmake --build build-asan -j $(JOBS) --target $(SANITIZER_TESTS)
	@. tests/sanitizers/env.sh && cd build-asan && ctest --output-on-failure -j 2 -E '^(e2e: |sdk: |cluster_nodes_test|cluster_faults_test|cluster_checker_test)'

# The checker (`make checker`: 60 s of faults) run for SOAK_SECONDS instead; it prints its counts
# (operations, outcomes, faults by kind, lost and duplicated) at the end. Needs root.
SOAK_SECONDS ?= 600
soak: build
	@PARLEY_CHECKER_SECONDS=$(SOAK_SECONDS) $(BUILD_DIR)/tests/cluster_checker_test --durations yes

bench: build
	@bash bench/run_all.sh

clean:
	rm -rf $(BUILD_DIR) build-asan
