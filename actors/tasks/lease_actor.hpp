// A lease actor: one per running task, spawned by the task's shard when a worker takes it. It
// owns the lease's clock: heartbeats extend it (never past the task's timeout), and when it
// runs out the actor tells the shard `(expire_atom, task_id, lease_id)` and quits; the shard
// counts that as a failed attempt ("lease expired"). The shard stops it when the task
// finishes. The lease id itself is the fencing token, checked by the shard.
// Spawned linked to its shard, so it goes when the shard goes (passivation, shutdown); it never
// leaves the shard's node.
#pragma once

#include "actors/runtime/atoms.hpp"
#include "common/clock.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace parley::tasks {

struct lease_terms {
  std::string task_id;
  std::string lease_id;
  int64_t expires_at_ms = 0;
  int64_t deadline_ms = 0;  // started_at + timeout_sec: no heartbeat extends past it
};

using lease_actor = caf::typed_actor<
  // Extends the lease by lease_ms from now (0: only reports); the new expiry in unix ms. An
  // expired lease answers a conflict error.
  caf::replies_to<heartbeat_atom, int64_t>::with<int64_t>,
  // The task finished: quit quietly.
  caf::reacts_to<delete_atom>>;

// `shard`: the task shard spawning it (task_shard.hpp), told of the expiry. `clock`: unix ms,
// the shard's clock (the lease's times are on it).
lease_actor spawn_lease_actor(caf::local_actor* shard, lease_terms terms, clock_fn clock);

} // namespace parley::tasks
