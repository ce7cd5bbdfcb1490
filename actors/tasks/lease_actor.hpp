// A lease actor: one per running task, spawned by the task's shard when a worker takes it. It
// owns the lease's clock: heartbeats extend it (never past the task's timeout), and when it
// runs out the actor tells the shard `(expire_atom, task_id, lease_id)` and quits; the shard
// counts that as a failed attempt ("lease expired"). The shard stops it when the task
// finishes. The lease id itself is the fencing token, checked by the shard.
//
// Messages:
//   (heartbeat_atom, int64_t lease_ms) -> int64_t expires_at_ms: extends by lease_ms from now
//       (0: only reports); an expired lease answers a conflict error.
//   (delete_atom)  the task finished: quit quietly.
// Spawned linked to its shard, so it goes when the shard goes (passivation, shutdown).
#pragma once

#include "common/clock.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

namespace parley::tasks {

struct lease_terms {
  std::string task_id;
  std::string lease_id;
  int64_t expires_at_ms = 0;
  int64_t deadline_ms = 0;  // started_at + timeout_sec: no heartbeat extends past it
};

// `clock`: unix ms, the shard's clock (the lease's times are on it).
caf::actor spawn_lease_actor(caf::event_based_actor* shard, lease_terms terms, clock_fn clock);

} // namespace parley::tasks
