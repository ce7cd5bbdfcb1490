// What the scheduler's actors, built-in executors and the edge's task handlers share: options,
// the store and the actors (the registry that hosts the task shards, the lease broker).
#pragma once

#include "actors/runtime/storage_writer.hpp"
#include "actors/runtime/entity_request.hpp"
#include "actors/runtime/service_router.hpp"
#include "actors/tasks/shard_handles.hpp"
#include "actors/tasks/tasks_api.hpp"
#include "common/clock.hpp"
#include "storage/task_store.hpp"

#include <caf/actor.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::tasks {

struct task_options {
  // COMPLETED and CANCELLED tasks (and their runs) are deleted this long after they finish;
  // DEAD tasks stay until requeued. Default: 7 days
  int retention_days = 7;
  // Largest payload (protobuf-encoded) a task may carry. Default: 256 KiB
  size_t max_payload_bytes = 256 * 1024;
  // Concurrent executions of the built-in type `http`, on threads of their own (0: outside
  // workers run it). Default: 2
  int http_workers = 2;
  // Concurrent executions of the built-in type `push`, apart from the http ones so that slow
  // http targets never delay pushes (0: outside workers run it). Default: 2
  int push_workers = 2;
  // Upper bound of one outbound POST of the built-in executors (http tasks and push_url),
  // whole exchange; a task's own timeout_sec may cut it shorter. Default: 10000 ms
  int64_t http_timeout_ms = 10000;
  // Bytes of an http task's response body kept in its result. Default: 4096 bytes
  size_t http_max_response_bytes = 4096;
  // Destinations http tasks may reach: host names ("hooks.example.com"), "*.example.com",
  // "*" (any host name), IP addresses and CIDRs. Loopback, private, link-local, metadata and
  // other special addresses are refused unless an address or CIDR entry covers them.
  // Default: [] (http tasks are refused)
  std::vector<std::string> http_allow;
  // Unfinished tasks (PENDING, SCHEDULED, RUNNING, RETRYING, PAUSED) one user may have; a
  // create beyond it answers 429. The node's own tasks do not count. Default: 10000 tasks
  int64_t max_waiting_per_owner = 10000;
  // Payload bytes the task shards of this node keep in memory for due and running tasks;
  // beyond it, records are held without payload and payloads are read from storage when
  // needed (lease, rewrite). Default: 64 MiB
  int64_t max_memory_payload_bytes = int64_t{64} << 20;
  // Where the `push` executor POSTs notifications; empty: appended to <data_dir>/push.jsonl.
  // Default: ""
  std::string push_url;
  // The file the `push` executor appends to when push_url is empty (set by the node).
  std::string push_file;
};

// Unfinished tasks per owner, shared by the shards (an owner's tasks live on every shard).
class owner_counts {
public:
  // Counts one more task of `owner` unless it already has `limit`.
  bool try_add(const std::string& owner, int64_t limit) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& n = counts_[owner];
    if (n >= limit)
      return false;
    ++n;
    return true;
  }
  void add(const std::string& owner, int64_t delta) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = counts_.emplace(owner, 0).first;
    it->second += delta;
    if (it->second <= 0)
      counts_.erase(it);
  }
  int64_t of(const std::string& owner) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = counts_.find(owner);
    return it == counts_.end() ? 0 : it->second;
  }

private:
  std::mutex mtx_;
  std::unordered_map<std::string, int64_t> counts_;
};

struct tasks_context {
  task_options opts;
  owner_counts unfinished;                      // loaded at start-up from the owner index
  std::atomic<int64_t> payload_bytes_held{0};   // by all shards: max_memory_payload_bytes
  storage::task_store* store = nullptr;
  runtime::storage_writer_api storage_writer;
  caf::actor registry;      // hosts the task shards (kind shard_kind, ids "0".."15")
  lease_broker_api broker;  // ready tasks and waiting workers: lease_broker.hpp
  shard_handles shards;     // the task shards' handles, for shard_request.hpp
  clock_fn clock = unix_ms;  // the "now" of task shards, their leases and the broker
  // In a cluster: which shards are this node's, and the other nodes' brokers. Null: a single
  // node (everything here).
  runtime::service_router_ptr router;

  bool clustered() const { return router && router->clustered(); }
};

using tasks_context_ptr = std::shared_ptr<tasks_context>;

constexpr const char* shard_kind = "task_shard";

// Where task shard `shard` lives, for runtime::request_entity / ask_entity<task_shard_api>.
inline runtime::entity_address shard_at(const tasks_context& ctx, uint32_t shard) {
  return {ctx.registry, shard_kind, std::to_string(shard)};
}

// Whether task shard `shard` is this node's to run (its partition's primary is here); always on
// a single node.
inline bool shard_here(const tasks_context& ctx, uint32_t shard) {
  return !ctx.router || ctx.router->here(shard_kind, std::to_string(shard));
}

} // namespace parley::tasks
