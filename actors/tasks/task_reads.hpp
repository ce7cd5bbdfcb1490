// Reads of the task scheduler that need no shard: a task, a page of tasks, a task's runs. They
// read storage directly, which holds exactly what the shards have acknowledged.
#pragma once

#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "common/errc.hpp"
#include "proto/parley.pb.h"

#include <string>
#include <vector>

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

// A task's runs, oldest first: those stored, then the final one its record holds, if any.
fault read_runs(const tasks_context& ctx, const task_caller& caller, const std::string& id,
                pb::TaskRuns& out);

// The run that task `t`'s current attempt makes, ended at `finished_at_ms` with `outcome`
// (completed, failed, lease_expired, cancelled): what the shard stores, and what a completed
// task's record answers for its final run.
pb::TaskRun run_of(const pb::StoredTask& t, const std::string& outcome, int64_t finished_at_ms);

// A list query as it travels to a shard on another node, and back.
pb::TaskListRead to_list_read(const task_caller& caller, const task_query& q);
task_query to_query(const pb::TaskListRead& q);

// In a cluster every node lists the tasks it stores; one page of the whole cluster is the
// merge of the nodes' pages for the same query: the tasks up to the lowest point any node's scan
// reached (its next_cursor; a node whose scan found its end reached everything), in id order,
// at most `limit`. Its next_cursor continues from where that page ends: the next page misses
// nothing and repeats nothing.
pb::TaskList merge_pages(std::vector<pb::TaskList> pages, size_t limit);

} // namespace parley::tasks
