// Reads of the task scheduler that need no shard: a task, a page of tasks, a task's runs. They
// read storage directly, which holds exactly what the shards have acknowledged.
#pragma once

#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "common/errc.hpp"
#include "proto/parley.pb.h"

#include <string>

namespace parley::tasks {

// The public view of a stored task.
pb::Task to_public(const pb::StoredTask& t);

// A task `caller` may see (its owner, an admin); any other answers 404 as if it did not exist.
fault read_task(const tasks_context& ctx, const task_caller& caller, const std::string& id,
                pb::Task& out);

struct task_query {
  std::string status;     // "", a status name, or "failed" (RETRYING and DEAD)
  std::string task_type;  // "" for every type
  size_t limit = 50;      // 1..100 (clamped by the edge)
  std::string cursor;     // from a previous page's next_cursor
};

// One page in creation order of the tasks `caller` may see: an admin's page covers every task,
// anyone else's only their own (read through the owner index). A query by task_type looks at
// no more than a bounded number of tasks per page and may return a short page with a
// next_cursor (docs/tasks.md).
fault list_tasks(const tasks_context& ctx, const task_caller& caller, const task_query& q,
                 pb::TaskList& out);

fault read_runs(const tasks_context& ctx, const task_caller& caller, const std::string& id,
                pb::TaskRuns& out);

} // namespace parley::tasks
