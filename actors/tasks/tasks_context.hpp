// What the scheduler's actors, built-in executors and the edge's task handlers share: options,
// the store and the actors (the registry that hosts the task shards, the lease broker).
#pragma once

#include "storage/task_store.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace parley::tasks {

struct task_options {
  // COMPLETED and CANCELLED tasks (and their runs) are deleted this long after they finish;
  // DEAD tasks stay until requeued. Default: 7 days
  int retention_days = 7;
  // Largest payload (protobuf-encoded) a task may carry. Default: 256 KiB
  size_t max_payload_bytes = 256 * 1024;
  // Concurrent executions of the built-in task types (http, push). Default: 4
  int builtin_workers = 4;
  // Where the `push` executor POSTs notifications; empty: appended to <data_dir>/push.jsonl.
  // Default: ""
  std::string push_url;
  // The file the `push` executor appends to when push_url is empty (set by the node).
  std::string push_file;
};

struct tasks_context {
  task_options opts;
  storage::task_store* store = nullptr;
  caf::actor storage_writer;
  caf::actor registry;  // hosts the task shards (kind shard_kind, ids "0".."15")
  caf::actor broker;    // ready tasks and waiting workers: lease_broker.hpp
};

using tasks_context_ptr = std::shared_ptr<tasks_context>;

constexpr const char* shard_kind = "task_shard";

} // namespace parley::tasks
