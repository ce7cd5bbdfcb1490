#include "actors/tasks/task_rules.hpp"

#include "actors/tasks/cron.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <string>

namespace parley::tasks {

namespace {

fault bad(std::string message) {
  return make_fault(errc::bad_request, std::move(message));
}

bool valid_task_type(const std::string& t) {
  if (t.empty() || t.size() > task_bounds::max_task_type)
    return false;
  return std::all_of(t.begin(), t.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-';
  });
}

fault check_range(const char* field, int64_t v, int64_t lo, int64_t hi) {
  if (v >= lo && v <= hi)
    return {};
  return bad(std::string{field} + " must be between " + std::to_string(lo) + " and "
             + std::to_string(hi) + " (got " + std::to_string(v) + ")");
}

int64_t to_ms(const google::protobuf::Timestamp& ts) {
  return google::protobuf::util::TimeUtil::TimestampToMilliseconds(ts);
}

fault prepare_schedule(const pb::TaskSchedule& in, int64_t now_ms, pb::StoredTask& out) {
  auto& type = in.type();
  auto* sched = out.mutable_schedule();
  if (type.empty() || type == "immediate") {
    if (in.has_run_at() || !in.cron().empty())
      return bad("schedule.run_at and schedule.cron need schedule.type delayed or cron");
    sched->set_type("immediate");
    out.set_next_run_at_ms(now_ms);
    return {};
  }
  if (type == "delayed") {
    if (!in.has_run_at())
      return bad("schedule.run_at is required for a delayed task");
    if (!in.cron().empty())
      return bad("schedule.cron needs schedule.type cron");
    auto at = to_ms(in.run_at());
    if (at - now_ms > task_bounds::max_delay_ms)
      return bad("schedule.run_at is more than 10 years away");
    sched->set_type("delayed");
    *sched->mutable_run_at() = in.run_at();
    out.set_next_run_at_ms(std::max(at, now_ms));  // in the past: runs now
    return {};
  }
  if (type == "cron") {
    if (in.cron().empty())
      return bad("schedule.cron is required for a cron task");
    if (in.has_run_at())
      return bad("schedule.run_at needs schedule.type delayed");
    fault err;
    auto expr = cron_expr::parse(in.cron(), err);
    if (!expr)
      return make_fault(errc::bad_request, "schedule." + err.message);
    sched->set_type("cron");
    sched->set_cron(in.cron());
    out.set_next_run_at_ms(expr->next_after(now_ms));
    return {};
  }
  return bad("schedule.type must be immediate, delayed or cron (got \"" + type + "\")");
}

fault prepare_retry(const pb::RetryPolicy& in, pb::RetryPolicy& out) {
  out.set_max_retries(in.has_max_retries() ? in.max_retries() : 3);
  if (auto err = check_range("retry_policy.max_retries", out.max_retries(), 0,
                             task_bounds::max_retries))
    return err;
  if (!in.backoff().empty() && in.backoff() != "exponential" && in.backoff() != "fixed")
    return bad("retry_policy.backoff must be fixed or exponential (got \"" + in.backoff() + "\")");
  out.set_backoff(in.backoff().empty() ? "exponential" : in.backoff());
  out.set_initial_delay_sec(in.has_initial_delay_sec() ? in.initial_delay_sec() : 10);
  return check_range("retry_policy.initial_delay_sec", out.initial_delay_sec(), 0,
                     task_bounds::max_initial_delay_sec);
}

// Levels of arrays and objects in `v` (a scalar is 0), stopping once past `limit`.
int free_form_depth(const google::protobuf::Value& v, int limit) {
  if (limit < 0)
    return 0;
  int deepest = 0;
  if (v.has_list_value()) {
    for (auto& item : v.list_value().values())
      deepest = std::max(deepest, free_form_depth(item, limit - 1));
    return deepest + 1;
  }
  if (v.has_struct_value()) {
    for (auto& [key, item] : v.struct_value().fields())
      deepest = std::max(deepest, free_form_depth(item, limit - 1));
    return deepest + 1;
  }
  return 0;
}

} // namespace

fault check_free_form(const google::protobuf::Value& v, const char* field, size_t max_bytes) {
  if (free_form_depth(v, max_free_form_depth) > max_free_form_depth)
    return bad(std::string{field} + " nests deeper than " + std::to_string(max_free_form_depth)
               + " levels");
  if (v.ByteSizeLong() > max_bytes)
    return make_fault(errc::too_large, std::string{field}
                                         + " is larger than tasks.max_payload_bytes ("
                                         + std::to_string(max_bytes) + " bytes)");
  return {};
}

fault prepare_task(const pb::CreateTaskRequest& req, int64_t now_ms, size_t max_payload_bytes,
                   pb::StoredTask& out) {
  if (req.task_type().empty())
    return bad("task_type is required");
  if (!valid_task_type(req.task_type()))
    return bad("task_type must match [A-Za-z0-9_.:-]{1,64}");
  out.set_task_type(req.task_type());
  if (req.has_payload())
    *out.mutable_payload() = req.payload();
  else
    out.mutable_payload()->set_null_value(google::protobuf::NULL_VALUE);
  if (auto err = check_free_form(out.payload(), "payload", max_payload_bytes))
    return err;
  if (auto err = prepare_schedule(req.schedule(), now_ms, out))
    return err;
  if (auto err = prepare_retry(req.retry_policy(), *out.mutable_retry_policy()))
    return err;
  out.set_timeout_sec(req.has_timeout_sec() ? req.timeout_sec() : 300);
  if (auto err = check_range("timeout_sec", out.timeout_sec(), 1, task_bounds::max_timeout_sec))
    return err;
  out.set_priority(req.has_priority() ? req.priority() : 0);
  if (auto err = check_range("priority", out.priority(), -task_bounds::max_priority,
                             task_bounds::max_priority))
    return err;
  if (req.idempotency_key().size() > task_bounds::max_idempotency_key)
    return bad("idempotency_key is longer than 200 characters");
  out.set_idempotency_key(req.idempotency_key());
  out.set_status(pb::Task::PENDING);
  out.set_created_at_ms(now_ms);
  out.set_updated_at_ms(now_ms);
  return {};
}

fault check_lease_request(pb::LeaseRequest& r) {
  if (r.worker_id().empty() || r.worker_id().size() > task_bounds::max_worker_id)
    return bad("worker_id is required (1..128 characters)");
  if (r.task_types().empty()
      || static_cast<size_t>(r.task_types_size()) > task_bounds::max_lease_types)
    return bad("task_types must list 1..32 task types");
  for (auto& t : r.task_types())
    if (t.empty() || t.size() > task_bounds::max_task_type)
      return bad("task_types: each type is 1..64 characters");
  if (r.max_tasks() == 0)
    r.set_max_tasks(1);
  if (r.max_tasks() < 1 || r.max_tasks() > task_bounds::max_lease_tasks)
    return bad("max_tasks must be between 1 and 100");
  if (r.lease_sec() == 0)
    r.set_lease_sec(task_bounds::default_lease_sec);
  if (r.lease_sec() < 1 || r.lease_sec() > task_bounds::max_lease_sec)
    return bad("lease_sec must be between 1 and 3600");
  if (r.wait_ms() < 0 || r.wait_ms() > task_bounds::max_wait_ms)
    return bad("wait_ms must be between 0 and 60000");
  return {};
}

fault check_heartbeat_request(const pb::HeartbeatRequest& r) {
  if (r.lease_sec() < 0 || r.lease_sec() > task_bounds::max_lease_sec)
    return bad("lease_sec must be between 1 and 3600");
  return {};
}

int64_t retry_delay_ms(const pb::RetryPolicy& policy, int attempt, uint64_t random) {
  int64_t base = static_cast<int64_t>(policy.initial_delay_sec()) * 1000;
  if (policy.backoff() != "fixed")
    for (int i = 1; i < attempt && base < task_bounds::max_backoff_ms; ++i)
      base *= 2;
  base = std::min(base, task_bounds::max_backoff_ms);
  auto jitter_span = static_cast<uint64_t>(base / 4) + 1;
  return base + static_cast<int64_t>(random % jitter_span);
}

bool is_recurring(const pb::StoredTask& t) {
  return t.schedule().type() == "cron";
}

int64_t next_firing(const pb::StoredTask& t, int64_t after_ms) {
  fault err;
  auto expr = cron_expr::parse(t.schedule().cron(), err);
  return expr ? expr->next_after(after_ms) : -1;
}

} // namespace parley::tasks
