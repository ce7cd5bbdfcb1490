// A task shard: the virtual actor that owns every task whose id hashes to it (task_ids.hpp).
// It is the only writer of its tasks, so each task's transitions are serialized here and each
// is durable (group commit) before it is answered or acted on. In memory it keeps the near
// future: records of tasks that are due within the loaded window of the due index, a timer
// map for PENDING and RETRYING tasks, and a lease actor per RUNNING task. Tasks due further
// out stay on disk until the window (advanced on every tick) reaches them. When a task becomes
// SCHEDULED the shard offers it to the lease broker; the broker asks the shard to lease it.
// Messages: task_messages.hpp.
#pragma once

#include "actors/tasks/tasks_context.hpp"

#include <caf/fwd.hpp>

#include <cstdint>

namespace parley::tasks {

// How far ahead of now a shard keeps due tasks in memory.
constexpr int64_t shard_window_ms = 60'000;

caf::actor spawn_task_shard(caf::actor_system& sys, tasks_context_ptr ctx, uint32_t shard);

} // namespace parley::tasks
