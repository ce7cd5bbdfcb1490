#include "actors/tasks/task_executors.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_messages.hpp"
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

constexpr int64_t executor_lease_ms = 3600 * 1000;  // the shard caps it at timeout_sec
constexpr int64_t executor_wait_ms = 30000;

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

using executor_actor = caf::stateful_actor<executor_state>;

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

void run(executor_actor* self, const pb::Lease& lease) {
  auto& p = *self->state.shared;
  // The lease ends at its expiry: leave a second of it for the answer; and never wait on one
  // destination longer than tasks.http_timeout_ms.
  auto lease_ms = TimeUtil::TimestampToMilliseconds(lease.lease_expires_at()) - unix_ms();
  auto timeout = std::chrono::milliseconds{
    std::max<int64_t>(std::min<int64_t>(lease_ms - 1000, p.ctx->opts.http_timeout_ms), 500)};
  auto o = p.task_type == "http" ? run_http(p, lease, timeout) : run_push(p, lease, timeout);
  lease_finish msg;
  msg.caller = task_caller::the_node();
  msg.lease_id = lease.lease_id();
  msg.success = o.success;
  msg.result = std::move(o.result);
  msg.error = std::move(o.error);
  msg.retryable = o.retryable;
  msg.reply = [id = lease.task_id()](const fault& err, task_status, int64_t) {
    if (err)
      spdlog::warn("built-in task {}: outcome not recorded: {}", id, err.message);
  };
  caf::anon_send(p.ctx->registry, std::string{shard_kind},
                 std::to_string(shard_of(lease.task_id())),
                 caf::make_message(finish_atom_v, std::move(msg)));
}

void poll(executor_actor* self) {
  auto& st = self->state;
  lease_wait w;
  w.caller = task_caller::the_node();
  w.task_types = {st.shared->task_type};
  w.worker_id = st.worker_id;
  w.max_tasks = 1;
  w.lease_ms = executor_lease_ms;
  w.wait_ms = executor_wait_ms;
  // Weak: a parked long poll must not keep the executor (and its thread) alive at shutdown.
  w.reply = [me = self->address()](const fault&, std::vector<pb::Lease> leases) {
    if (auto executor = caf::actor_cast<caf::actor>(me))
      caf::anon_send(executor, run_atom_v, granted_leases{std::move(leases)});
  };
  self->send(st.shared->ctx->broker, lease_atom_v, std::move(w));
}

caf::actor spawn_executor(caf::actor_system& sys, std::shared_ptr<const pool> shared,
                          std::string worker_id) {
  return sys.spawn<caf::detached>([shared, worker_id](executor_actor* self) -> caf::behavior {
    self->state.shared = shared;
    self->state.worker_id = worker_id;
    self->send(self, poll_atom_v);
    return {
      [self](poll_atom) { poll(self); },
      [self](run_atom, granted_leases& granted) {
        for (auto& lease : granted.leases)
          run(self, lease);
        poll(self);
      },
    };
  });
}

} // namespace

std::vector<caf::actor> spawn_task_executors(caf::actor_system& sys, tasks_context_ptr ctx,
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
  std::vector<caf::actor> out;
  for (auto& [shared, workers] : pools)
    for (int i = 0; i < workers; ++i)
      out.push_back(spawn_executor(sys, shared, "builtin-" + shared->task_type + "-"
                                                  + std::to_string(i)));
  return out;
}

} // namespace parley::tasks
