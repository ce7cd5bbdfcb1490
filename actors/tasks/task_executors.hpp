// The built-in task types, executed inside the node (PROTOCOL.md, Tasks):
//   http  POSTs the payload (JSON) to payload.url; 2xx completes, anything else fails the
//         attempt (retried per the task's policy); a missing or non-http URL, or a destination
//         tasks.http_allow refuses, fails for good. Redirects are not followed.
//         The exchange ends within min(timeout_sec, tasks.http_timeout_ms).
//   push  delivers a chat push notification (push_task_sink.hpp): POSTed to tasks.push_url,
//         or appended as one JSON line to <data_dir>/push.jsonl when no URL is configured.
// Executors are ordinary workers of the lease broker (lease_broker_api), leasing as the node
// itself, each on a thread of its own because delivery blocks; they record outcomes with the
// task shards' finish_atom. Each type has its own pool (tasks.http_workers,
// tasks.push_workers), so http targets that never answer cannot hold up chat pushes.
// The HTTP client is passed in (the node gives net's, with the tasks.http_allow check): actors/
// knows no sockets.
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/tasks/tasks_context.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace parley::tasks {

// One outbound POST of a built-in executor.
struct outbound_post {
  std::string url;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10000};  // the whole exchange
  size_t max_body = 4096;                    // bytes of the response body kept
  // True for a URL a task names (tasks.http_allow applies); false for the operator's push_url.
  bool task_destination = true;
};

struct post_outcome {
  int status = 0;          // 0 when no response arrived
  std::string error;       // transport failure or refused URL, empty on any HTTP response
  std::string body;        // the response body, cut to max_body bytes
  bool url_valid = true;   // false: the URL or its destination can never work (not retried)
};

// Sends one POST and blocks until it is answered, fails or times out. Called from the
// executors' own threads, several at once.
using http_poster = std::function<post_outcome(const outbound_post&)>;

// An executor asks the broker for its next task whenever it gets poll_atom (it sends it itself).
using task_executor = caf::typed_actor<caf::reacts_to<poll_atom>>;

std::vector<task_executor> spawn_task_executors(caf::actor_system& sys, tasks_context_ptr ctx,
                                                http_poster post);

} // namespace parley::tasks
