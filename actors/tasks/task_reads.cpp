#include "actors/tasks/task_reads.hpp"

#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_state.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

namespace parley::tasks {

namespace {

using google::protobuf::util::TimeUtil;

constexpr size_t scan_budget = 10'000;  // tasks examined per page when filtering by type
constexpr size_t max_runs = 1000;

bool parse_status(const std::string& name, std::vector<task_status>& out) {
  if (name.empty()) {
    out.push_back(pb::Task::STATUS_UNSPECIFIED);
    return true;
  }
  if (name == "failed" || name == "FAILED") {
    out = {pb::Task::RETRYING, pb::Task::DEAD};
    return true;
  }
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  task_status s;
  if (!pb::Task::Status_Parse(upper, &s) || s == pb::Task::STATUS_UNSPECIFIED)
    return false;
  out.push_back(s);
  return true;
}

} // namespace

pb::Task to_public(const pb::StoredTask& t) {
  pb::Task out;
  out.set_id(t.id());
  out.set_task_type(t.task_type());
  *out.mutable_payload() = t.payload();
  out.set_status(t.status());
  out.set_priority(t.priority());
  out.set_attempt(t.attempt());
  out.set_max_retries(t.retry_policy().max_retries());
  *out.mutable_schedule() = t.schedule();
  if (!is_finished(t.status()) && t.status() != pb::Task::RUNNING)
    *out.mutable_next_run_at() = TimeUtil::MillisecondsToTimestamp(t.next_run_at_ms());
  out.set_last_error(t.last_error());
  if (t.has_result())
    *out.mutable_result() = t.result();
  else
    out.mutable_result()->set_null_value(google::protobuf::NULL_VALUE);
  *out.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(t.created_at_ms());
  *out.mutable_updated_at() = TimeUtil::MillisecondsToTimestamp(t.updated_at_ms());
  *out.mutable_retry_policy() = t.retry_policy();
  out.set_timeout_sec(t.timeout_sec());
  out.set_idempotency_key(t.idempotency_key());
  return out;
}

namespace {

// The stored task `id` if `caller` may see it; not_found alike when it does not exist or is not
// theirs (no one learns which ids exist).
fault visible_task(const tasks_context& ctx, const task_caller& caller, const std::string& id,
                   std::optional<pb::StoredTask>& out) {
  if (!valid_task_id(id))
    return make_fault(errc::not_found, "no task " + id);
  auto rec = ctx.store->get(id);
  if (!rec)
    return rec.error();
  if (!*rec || !may_see(caller, **rec))
    return make_fault(errc::not_found, "no task " + id);
  out = std::move(*rec);
  return {};
}

} // namespace

fault read_task(const tasks_context& ctx, const task_caller& caller, const std::string& id,
                pb::Task& out) {
  std::optional<pb::StoredTask> rec;
  if (auto f = visible_task(ctx, caller, id, rec))
    return f;
  out = to_public(*rec);
  return {};
}

fault list_tasks(const tasks_context& ctx, const task_caller& caller, const task_query& q,
                 pb::TaskList& out) {
  std::vector<task_status> statuses;
  if (!parse_status(q.status, statuses))
    return make_fault(errc::bad_request, "status must be a task status or \"failed\" (got \""
                                           + q.status + "\")");
  if (!q.cursor.empty() && !valid_task_id(q.cursor))
    return make_fault(errc::bad_request, "cursor is malformed");
  // Everyone but admins lists their own tasks: the owner index, one range per status, merged.
  bool own = !caller.admin() && !caller.node();
  if (own && statuses.size() == 1 && statuses[0] == pb::Task::STATUS_UNSPECIFIED) {
    statuses.clear();
    for (int s = pb::Task::PENDING; s <= pb::Task::PAUSED; ++s)
      statuses.push_back(static_cast<task_status>(s));
  }
  // Walk every status's index from the cursor, merging by id, until the page is full.
  std::string after = q.cursor;
  size_t examined = 0;
  while (static_cast<size_t>(out.tasks_size()) < q.limit && examined < scan_budget) {
    auto want = std::min(q.limit * 2, scan_budget - examined);
    std::vector<std::string> ids;
    for (auto s : statuses) {
      auto part = own ? ctx.store->owner_ids(caller.user(), s, after, want)
                      : ctx.store->ids(s, after, want);
      if (!part)
        return part.error();
      ids.insert(ids.end(), part->begin(), part->end());
    }
    if (ids.empty()) {
      after.clear();
      break;
    }
    std::sort(ids.begin(), ids.end());
    if (ids.size() > want)
      ids.resize(want);  // beyond this, some status's index was not read as far
    for (auto& id : ids) {
      ++examined;
      after = id;
      // In a cluster this node lists only the shards it leads: a backup's copies, and records a
      // former primary kept of a partition it lost, are the owner's to list.
      if (!shard_here(ctx, shard_of(id)))
        continue;
      auto rec = ctx.store->get(id);
      if (!rec)
        return rec.error();
      auto& task = *rec;
      if (!task || !may_see(caller, *task)
          || (!q.task_type.empty() && task->task_type() != q.task_type))
        continue;
      *out.add_tasks() = to_public(*task);
      if (static_cast<size_t>(out.tasks_size()) == q.limit)
        break;
    }
  }
  // A full page (or an exhausted budget) may have more after it; an empty scan has none.
  out.set_next_cursor(after);
  return {};
}

pb::TaskRun run_of(const pb::StoredTask& t, const std::string& outcome, int64_t finished_at_ms) {
  pb::TaskRun run;
  run.set_attempt(t.attempt());
  run.set_worker_id(t.worker_id());
  *run.mutable_scheduled_for() = TimeUtil::MillisecondsToTimestamp(t.next_run_at_ms());
  *run.mutable_started_at() = TimeUtil::MillisecondsToTimestamp(t.started_at_ms());
  *run.mutable_finished_at() = TimeUtil::MillisecondsToTimestamp(finished_at_ms);
  run.set_outcome(outcome);
  if (outcome == "completed")
    *run.mutable_result() = t.result();
  else
    run.set_error(t.last_error());
  return run;
}

fault read_runs(const tasks_context& ctx, const task_caller& caller, const std::string& id,
                pb::TaskRuns& out) {
  std::optional<pb::StoredTask> rec;
  if (auto f = visible_task(ctx, caller, id, rec))
    return f;
  auto& task = *rec;
  auto runs = ctx.store->runs(id, max_runs);
  if (!runs)
    return runs.error();
  for (auto& run : *runs)
    *out.add_runs() = std::move(run);
  if (task.final_run_in_record() && static_cast<size_t>(out.runs_size()) < max_runs)
    *out.add_runs() = run_of(task, "completed", task.finished_at_ms());
  return {};
}

pb::TaskListRead to_list_read(const task_caller& caller, const task_query& q) {
  pb::TaskListRead out;
  *out.mutable_caller() = caller;
  out.set_status(q.status);
  out.set_task_type(q.task_type);
  out.set_limit(static_cast<uint32_t>(q.limit));
  out.set_cursor(q.cursor);
  return out;
}

task_query to_query(const pb::TaskListRead& q) {
  task_query out;
  out.status = q.status();
  out.task_type = q.task_type();
  out.limit = std::clamp<size_t>(q.limit(), 1, 100);
  out.cursor = q.cursor();
  return out;
}

pb::TaskList merge_pages(std::vector<pb::TaskList> pages, size_t limit) {
  // Ids are time-ordered strings of one length: string order is creation order.
  std::string frontier;  // empty: every node's scan reached its end
  for (auto& p : pages)
    if (!p.next_cursor().empty() && (frontier.empty() || p.next_cursor() < frontier))
      frontier = p.next_cursor();
  std::vector<pb::Task> tasks;
  for (auto& p : pages)
    for (auto& t : *p.mutable_tasks())
      if (frontier.empty() || t.id() <= frontier)
        tasks.push_back(std::move(t));
  std::sort(tasks.begin(), tasks.end(),
            [](const pb::Task& a, const pb::Task& b) { return a.id() < b.id(); });
  pb::TaskList out;
  for (auto& t : tasks) {
    if (static_cast<size_t>(out.tasks_size()) == limit)
      break;
    *out.add_tasks() = std::move(t);
  }
  // Tasks left over: the next page starts after the last one served; otherwise where the
  // slowest scan stopped (nothing before it is unseen).
  if (tasks.size() > limit)
    out.set_next_cursor(out.tasks(out.tasks_size() - 1).id());
  else
    out.set_next_cursor(frontier);
  return out;
}

} // namespace parley::tasks
