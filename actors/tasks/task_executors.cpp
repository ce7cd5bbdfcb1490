#include "actors/tasks/task_executors.hpp"

#include "actors/runtime/errors.hpp"
#include "actors/tasks/shard_request.hpp"
#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/task_ids.hpp"
#include "common/clock.hpp"
#include "common/utf8.hpp"

#include <caf/all.hpp>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>

namespace parley::tasks {

namespace {

using google::protobuf::util::TimeUtil;

constexpr int32_t executor_lease_sec = 3600;  // the shard caps it at timeout_sec
constexpr int32_t executor_wait_ms = 30000;
// The broker answers a wait by its end, give or take one grant's durable write.
constexpr auto lease_answer_margin = std::chrono::seconds{60};
// After the broker failed to answer, the next request waits this long.
constexpr auto poll_retry = std::chrono::seconds{1};
// Recording an outcome is one durable write on the task's shard.
constexpr auto finish_timeout = std::chrono::seconds{30};

// <data_dir>/push.jsonl, shared by the executors.
class jsonl_file {
public:
  explicit jsonl_file(const std::string& path) : path_(path) {}
  ~jsonl_file() {
    if (file_)
      std::fclose(file_);
  }

  std::string append(const std::string& line) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!file_)
      file_ = std::fopen(path_.c_str(), "a");
    if (!file_)
      return "cannot open " + path_;
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF
        || std::fflush(file_) != 0)
      return "cannot write " + path_;
    return {};
  }

private:
  std::string path_;
  std::mutex mtx_;
  std::FILE* file_ = nullptr;
};

struct outcome {
  bool success = false;
  bool retryable = true;
  std::string error;
  google::protobuf::Value result;
};

std::string json_of(const google::protobuf::Value& v) {
  std::string out;
  google::protobuf::util::MessageToJsonString(v, &out);
  return out;
}

// One pool of built-in workers (http or push): what they share.
struct pool {
  tasks_context_ptr ctx;
  std::string task_type;
  std::shared_ptr<jsonl_file> pushes;
  http_poster post;
};

outcome from_post(const post_outcome& r) {
  outcome o;
  if (!r.url_valid) {
    o.retryable = false;
    o.error = r.error;
  } else if (!r.error.empty()) {
    o.error = r.error;
  } else if (r.status < 200 || r.status > 299) {
    o.error = "HTTP " + std::to_string(r.status) + ": " + valid_utf8(r.body, 200);
  } else {
    o.success = true;
    auto& fields = *o.result.mutable_struct_value()->mutable_fields();
    fields["status"].set_number_value(r.status);
    // Bodies are stored as text: a binary or cut one must still be valid UTF-8.
    fields["body"].set_string_value(valid_utf8(r.body, r.body.size()));
  }
  return o;
}

outcome run_http(const pool& p, const pb::Lease& lease, std::chrono::milliseconds timeout) {
  auto& fields = lease.payload().struct_value().fields();
  auto url = fields.find("url");
  if (!lease.payload().has_struct_value() || url == fields.end()
      || !url->second.has_string_value())
    return outcome{false, false, "payload.url (a string) is required for an http task", {}};
  outbound_post req;
  req.url = url->second.string_value();
  req.body = json_of(lease.payload());
  req.headers = {{"X-Parley-Task-Id", lease.task_id()},
                 {"X-Parley-Attempt", std::to_string(lease.attempt())}};
  req.timeout = timeout;
  req.max_body = p.ctx->opts.http_max_response_bytes;
  return from_post(p.post(req));
}

struct executor_state {
  std::shared_ptr<const pool> shared;
  std::string worker_id;

  static inline const char* name = "parley.task_executor";
};

using executor_actor = task_executor::stateful_pointer<executor_state>;

outcome run_push(const pool& p, const pb::Lease& lease, std::chrono::milliseconds timeout) {
  // The operator's own provider: not subject to tasks.http_allow.
  if (!p.ctx->opts.push_url.empty()) {
    outbound_post req;
    req.url = p.ctx->opts.push_url;
    req.body = json_of(lease.payload());
    req.headers = {{"X-Parley-Task-Id", lease.task_id()}};
    req.timeout = timeout;
    req.max_body = p.ctx->opts.http_max_response_bytes;
    req.task_destination = false;
    return from_post(p.post(req));
  }
  outcome o;
  o.error = p.pushes->append(json_of(lease.payload()));
  o.success = o.error.empty();
  o.result.set_null_value(google::protobuf::NULL_VALUE);
  return o;
}

void run(executor_actor self, const pb::Lease& lease) {
  auto& p = *self->state.shared;
  // The lease ends at its expiry: leave a second of it for the answer; and never wait on one
  // destination longer than tasks.http_timeout_ms.
  auto lease_ms = TimeUtil::TimestampToMilliseconds(lease.lease_expires_at()) - unix_ms();
  auto timeout = std::chrono::milliseconds{
    std::max<int64_t>(std::min<int64_t>(lease_ms - 1000, p.ctx->opts.http_timeout_ms), 500)};
  auto o = p.task_type == "http" ? run_http(p, lease, timeout) : run_push(p, lease, timeout);
  pb::FinishLease msg;
  *msg.mutable_caller() = node_caller();
  msg.set_lease_id(lease.lease_id());
  msg.set_success(o.success);
  *msg.mutable_result() = std::move(o.result);
  msg.set_error(std::move(o.error));
  msg.set_retryable(o.retryable);
  request_shard(
    self, p.ctx, shard_of(lease.task_id()), finish_timeout,
    [](pb::LeaseOutcome&) {},
    [id = lease.task_id()](caf::error& e) {
      spdlog::warn("built-in task {}: outcome not recorded: {}", id, to_fault(e).message);
    },
    finish_atom_v, std::move(msg));
}

// The wait of this executor, for withdrawing it when the broker's answer is overdue.
std::string wait_id_of(executor_actor self) {
  return "executor:" + self->state.worker_id;
}

void poll(executor_actor self) {
  auto& st = self->state;
  pb::LeaseWait w;
  *w.mutable_caller() = node_caller();
  auto& req = *w.mutable_request();
  req.set_worker_id(st.worker_id);
  req.add_task_types(st.shared->task_type);
  req.set_max_tasks(1);
  req.set_lease_sec(executor_lease_sec);
  req.set_wait_ms(executor_wait_ms);
  w.set_wait_id(wait_id_of(self));
  self
    ->request(st.shared->ctx->broker, std::chrono::milliseconds{executor_wait_ms} + lease_answer_margin,
              lease_atom_v, std::move(w))
    .then(
      [self](pb::LeaseResponse& granted) {
        for (auto& lease : granted.leases())
          run(self, lease);
        poll(self);
      },
      [self](caf::error& e) {
        // Leases the broker may still be granting for this wait are revoked, not lost.
        pb::WithdrawWait withdraw;
        withdraw.set_wait_id(wait_id_of(self));
        self->send(self->state.shared->ctx->broker, withdraw_atom_v, std::move(withdraw));
        // `unavailable` is the broker shutting down with the node: expected, not a warning.
        auto err = to_fault(e);
        spdlog::log(err.code == errc::unavailable ? spdlog::level::debug : spdlog::level::warn,
                    "{}: no answer from the lease broker: {}", self->state.worker_id, err.message);
        self->delayed_send(self, poll_retry, poll_atom_v);
      });
}

task_executor spawn_executor(caf::actor_system& sys, std::shared_ptr<const pool> shared,
                             std::string worker_id) {
  return sys.spawn<caf::detached>(
    [shared, worker_id](executor_actor self) -> task_executor::behavior_type {
      self->state.shared = shared;
      self->state.worker_id = worker_id;
      self->send(self, poll_atom_v);
      return {
        [self](poll_atom) { poll(self); },
      };
    });
}

} // namespace

std::vector<task_executor> spawn_task_executors(caf::actor_system& sys, tasks_context_ptr ctx,
                                                http_poster post) {
  auto http = std::make_shared<pool>();
  http->ctx = ctx;
  http->task_type = "http";
  http->post = post;
  auto push = std::make_shared<pool>();
  push->ctx = ctx;
  push->task_type = "push";
  push->post = std::move(post);
  push->pushes = std::make_shared<jsonl_file>(ctx->opts.push_file);
  // Each type has workers of its own: http targets that hang hold only the http workers.
  std::vector<std::pair<std::shared_ptr<const pool>, int>> pools{{http, ctx->opts.http_workers},
                                                                 {push, ctx->opts.push_workers}};
  std::vector<task_executor> out;
  for (auto& [shared, workers] : pools)
    for (int i = 0; i < workers; ++i)
      out.push_back(spawn_executor(sys, shared, "builtin-" + shared->task_type + "-"
                                                  + std::to_string(i)));
  return out;
}

} // namespace parley::tasks
