// The scheduler's clock: once a second it ticks every task shard of this node (task_shard_api's
// tick_atom, through the registry; each advances its window over the due index; the ticks also
// keep the shards active, so they are never passivated with timers pending), and once a minute
// it deletes COMPLETED and CANCELLED tasks older than tasks.retention_days. On start it sets the
// tasks-by-status gauges from the status index. In a cluster "this node's" shards are those whose
// partition's primary it is (shard_here): every shard is ticked by its owner alone.
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/tasks/tasks_context.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace parley::tasks {

// It only ticks itself; its handle is for stopping it.
using task_ticker = caf::typed_actor<caf::reacts_to<tick_atom>>;

task_ticker spawn_task_ticker(caf::actor_system& sys, tasks_context_ptr ctx);

} // namespace parley::tasks
