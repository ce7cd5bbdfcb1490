// The built-in task types, executed inside the node (PROTOCOL.md, Tasks):
//   http  POSTs the payload (JSON) to payload.url; 2xx completes, anything else fails the
//         attempt (retried per the task's policy); a missing or non-http URL, or a destination
//         tasks.http_allow refuses (http_allow.hpp), fails for good. Redirects are not followed.
//         The exchange ends within min(timeout_sec, tasks.http_timeout_ms).
//   push  delivers a chat push notification (push_task_sink.hpp): POSTed to tasks.push_url,
//         or appended as one JSON line to <data_dir>/push.jsonl when no URL is configured.
// Executors are ordinary workers of the lease broker, leasing as the node itself, each on a
// thread of its own because delivery blocks. Each type has its own pool (tasks.http_workers,
// tasks.push_workers), so http targets that never answer cannot hold up chat pushes.
#pragma once

#include "actors/tasks/tasks_context.hpp"

#include <caf/fwd.hpp>

#include <vector>

namespace parley::net {

std::vector<caf::actor> spawn_task_executors(caf::actor_system& sys,
                                             tasks::tasks_context_ptr ctx);

} // namespace parley::net
