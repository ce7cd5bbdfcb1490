// The built-in task types, executed inside the node (PROTOCOL.md, Tasks):
//   http  POSTs the payload (JSON) to payload.url; 2xx completes, anything else fails the
//         attempt (retried per the task's policy); a missing or non-http URL fails for good.
//         The whole exchange must finish within the task's timeout_sec.
//   push  delivers a chat push notification (push_task_sink.hpp): POSTed to tasks.push_url,
//         or appended as one JSON line to <data_dir>/push.jsonl when no URL is configured.
// Executors are ordinary workers of the lease broker (tasks.builtin_workers of them, each on a
// thread of its own because delivery blocks), so built-in tasks get the same leases, retries
// and dead letters as any other.
#pragma once

#include "actors/tasks/tasks_context.hpp"

#include <caf/fwd.hpp>

#include <vector>

namespace parley::net {

std::vector<caf::actor> spawn_task_executors(caf::actor_system& sys,
                                             tasks::tasks_context_ptr ctx);

} // namespace parley::net
