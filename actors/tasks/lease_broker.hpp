// The lease broker: one actor per node that matches due tasks with workers. Shards offer their
// SCHEDULED tasks (ready_atom) and withdraw those that stop being SCHEDULED otherwise than by a
// lease; workers ask for up to max_tasks of some task types (lease_atom, pb::LeaseWait). The
// broker picks the best ready tasks, highest priority first, then earliest next_run_at, asks
// their shards to lease them, and answers with what the shards granted. A worker that finds
// nothing waits (long poll) until a matching task is offered or its wait_ms runs out: nobody
// polls. A worker of an ordinary user is matched only with that user's tasks (ready sets by
// owner and type); `worker` and `admin` tokens and the node's executors with any.
// A worker that goes away while it waits withdraws its wait (withdraw_atom, by wait id): it is
// dropped, and leases its shards were granting for it meanwhile are revoked, not handed to
// nobody. When the node shuts down, waiting workers are answered `unavailable` at once. The
// broker holds only (priority, due time, id, owner) per ready task; the shards hold the records
// and decide (a task cancelled meanwhile is simply not granted).
// In a cluster it numbers what it tells the other nodes' brokers and tells them its position
// once a second; a broker that finds a gap fetches the teller's ready tasks again
// (pb::BrokerPosition, docs/cluster.md "Tasks").
// What callers may ask: lease_broker_api (tasks_api.hpp).
#pragma once

#include "actors/tasks/tasks_api.hpp"
#include "actors/tasks/tasks_context.hpp"

#include <caf/fwd.hpp>

namespace parley::tasks {

lease_broker_api spawn_lease_broker(caf::actor_system& sys, tasks_context_ptr ctx);

} // namespace parley::tasks
