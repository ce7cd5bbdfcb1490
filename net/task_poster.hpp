// The HTTP client the built-in task executors (actors/tasks/task_executors.hpp) are given: net's
// one client, with tasks.http_allow applied to the URLs tasks name.
#pragma once

#include "actors/tasks/task_executors.hpp"

#include <string>
#include <vector>

namespace parley::net {

// A poster that checks task destinations against `allow_entries` (tasks.http_allow syntax,
// http_allow.hpp); the operator's push_url is not checked. A malformed list (the node
// validates it at start-up) refuses every task destination.
tasks::http_poster make_task_poster(const std::vector<std::string>& allow_entries);

} // namespace parley::net
