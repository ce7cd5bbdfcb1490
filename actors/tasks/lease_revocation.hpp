// Leases granted to a worker that went away before it heard of them are handed back to their
// shards (revoke_atom), so those tasks are offered again at once instead of waiting for their
// leases to run out and losing an attempt.
#pragma once

#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/tasks_context.hpp"

#include <caf/fwd.hpp>

namespace parley::tasks {

// Asks each shard concerned to revoke its share of `leases`, taken by `holder`. Failures are
// logged: such a lease still runs out as any other.
void revoke_leases(caf::actor_system& sys, const tasks_context& ctx, const task_caller& holder,
                   const pb::LeaseResponse& leases);

} // namespace parley::tasks
