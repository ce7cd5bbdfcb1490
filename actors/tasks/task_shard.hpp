// A task shard: the virtual actor that owns every task whose id hashes to it (task_ids.hpp).
// It is the only writer of its tasks, so each task's transitions are serialized here and each
// is durable (group commit) before it is answered or acted on. In memory it keeps the near
// future: records of tasks that are due within the loaded window of the due index, a timer
// map for PENDING and RETRYING tasks, and a lease clock per RUNNING task (lease_clock.hpp; one
// timer serves all of them). Tasks due further out stay on disk until the window (advanced on
// every tick) reaches them. When a task becomes
// SCHEDULED the shard offers it to the lease broker (ready_atom); when it stops being SCHEDULED
// otherwise than by a lease, it withdraws the offer. The broker asks the shard to lease it.
// What callers may ask: task_shard_api (tasks_api.hpp).
#pragma once

#include "actors/tasks/tasks_api.hpp"
#include "actors/tasks/tasks_context.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

namespace parley::tasks {

// How far ahead of now a shard keeps due tasks in memory.
constexpr int64_t shard_window_ms = 60'000;

// What only the shard's own actors send it.
using task_shard_impl = task_shard_api::extend<
  // From itself, for a lease found run out when its task is loaded: (task id, lease id); a
  // failed attempt.
  caf::reacts_to<expire_atom, std::string, std::string>,
  // Its own timer: waiting tasks due at or before this time (unix ms) become SCHEDULED, and
  // leases that ran out by then fail their attempt.
  caf::reacts_to<wake_atom, int64_t>,
  // From the registry: quit once the writes in flight are durable.
  caf::reacts_to<passivate_atom>>;

task_shard_impl spawn_task_shard(caf::actor_system& sys, tasks_context_ptr ctx, uint32_t shard);

} // namespace parley::tasks
