#include "net/task_handlers.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_messages.hpp"
#include "actors/tasks/task_reads.hpp"
#include "actors/tasks/task_rules.hpp"
#include "common/json_text.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/json_codec.hpp"
#include "net/task_json.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <map>
#include <mutex>

namespace parley::net {

namespace {

using tasks::task_event;

// Authenticates the request and says who it is for the scheduler (its user and role); on
// failure answers 401 and returns false.
bool authenticated(const edge_context& ctx, const http_request& req, responder& respond,
                   tasks::task_caller& caller) {
  jwt_claims claims;
  if (!authenticate_or_answer(req, ctx.opts.auth, claims, respond))
    return false;
  caller.user = claims.sub;
  caller.admin = claims.role == "admin";
  caller.worker = claims.role == "worker";
  return true;
}

// The error answer; a refused create over the unfinished-task limit says when to try again.
http_response task_error(const fault& err) {
  if (err.code != errc::rate_limited)
    return http_response::error(err);
  constexpr int64_t retry_after_ms = 1000;  // tasks finish continuously; a second is a fair wait
  pb::ErrorBody body;
  body.mutable_error()->set_code("rate_limited");
  body.mutable_error()->set_message(err.message);
  body.mutable_error()->set_retry_after_ms(retry_after_ms);
  auto res = http_response::json(429, to_json(body));
  res.headers.emplace_back("Retry-After", std::to_string(retry_after_ms / 1000));
  return res;
}

// Sends `payload` to the shard that owns `shard`'s tasks.
void to_shard(edge_context& ctx, uint32_t shard, caf::message payload) {
  caf::anon_send(ctx.tasks->registry, std::string{tasks::shard_kind}, std::to_string(shard),
                 std::move(payload));
}

// Tasks without an idempotency key are spread over the shards in turn.
uint32_t next_shard() {
  static std::atomic<uint32_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) % tasks::task_shard_count;
}

fault parse_body(const http_request& req, google::protobuf::Message& out) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos)
    return {};  // an empty body is an empty object
  return from_json(req.body, out);
}

void create_task(edge_context& ctx, http_request& req, responder respond) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  tasks::task_create msg;
  msg.caller = caller;
  if (auto err = from_json(req.body, msg.request))
    return respond(http_response::error(err));
  // Keys are per owner: the same key of two users names two tasks, maybe on two shards.
  auto& key = msg.request.idempotency_key();
  auto shard = key.empty() ? next_shard()
                           : tasks::shard_of(storage::task_store::scoped_key(caller.user, key));
  msg.reply = [respond](const fault& err, const pb::StoredTask& task, bool created) {
    if (err)
      return respond(task_error(err));
    respond(http_response::json(created ? 201 : 200, task_json(tasks::to_public(task))));
  };
  to_shard(ctx, shard, caf::make_message(create_atom_v, std::move(msg)));
}

void task_command(edge_context& ctx, http_request& req, responder respond, task_event ev) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  auto id = req.params["id"];
  if (!tasks::valid_task_id(id))
    return respond(http_response::error(make_fault(errc::not_found, "no task " + id)));
  tasks::task_command msg;
  msg.caller = caller;
  msg.event = ev;
  msg.task_id = id;
  msg.reply = [respond](const fault& err, const pb::StoredTask& task) {
    if (err)
      return respond(http_response::error(err));
    respond(http_response::json(200, task_json(tasks::to_public(task))));
  };
  to_shard(ctx, tasks::shard_of(id), caf::make_message(command_atom_v, std::move(msg)));
}

void get_task(edge_context& ctx, http_request& req, responder respond) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  pb::Task task;
  if (auto err = tasks::read_task(*ctx.tasks, caller, req.params["id"], task))
    return respond(http_response::error(err));
  respond(http_response::json(200, task_json(task)));
}

void get_runs(edge_context& ctx, http_request& req, responder respond) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  pb::TaskRuns runs;
  if (auto err = tasks::read_runs(*ctx.tasks, caller, req.params["id"], runs))
    return respond(http_response::error(err));
  respond(http_response::json(200, to_json(runs)));
}

void list_tasks(edge_context& ctx, http_request& req, responder respond) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  tasks::task_query q;
  q.status = req.query_param("status");
  q.task_type = req.query_param("task_type");
  q.cursor = req.query_param("cursor");
  if (auto err = req.limit_param(50, q.limit))
    return respond(http_response::error(err));
  pb::TaskList page;
  if (auto err = tasks::list_tasks(*ctx.tasks, caller, q, page))
    return respond(http_response::error(err));
  respond(http_response::json(200, to_json(page)));
}

void lease(edge_context& ctx, http_request& req, responder respond) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  pb::LeaseRequest r;
  if (auto err = from_json(req.body, r))
    return respond(http_response::error(err));
  if (auto err = tasks::check_lease_request(r))
    return respond(http_response::error(err));
  tasks::lease_wait w;
  w.caller = caller;  // an ordinary user's worker leases only that user's tasks
  w.task_types.assign(r.task_types().begin(), r.task_types().end());
  w.worker_id = r.worker_id();
  w.max_tasks = static_cast<size_t>(r.max_tasks());
  w.lease_ms = int64_t{r.lease_sec()} * 1000;
  w.wait_ms = r.wait_ms();
  req.answer_within += std::chrono::milliseconds{w.wait_ms};  // a long poll answers late on purpose
  if (w.wait_ms > 0 && req.watch_disconnect)
    w.gone = req.watch_disconnect();
  w.reply = [respond](const fault& err, std::vector<pb::Lease> leases) {
    if (err)
      return respond(http_response::error(err));
    respond(http_response::json(200, leases_json(leases)));
  };
  caf::anon_send(ctx.tasks->broker, lease_atom_v, std::move(w));
}

// The shard of a lease id's task, or an answered 404.
bool lease_shard(const http_request& req, const responder& respond, uint32_t& shard) {
  auto& id = req.params.at("lease_id");
  auto task = tasks::task_of_lease(id);
  if (!task) {
    respond(http_response::error(make_fault(errc::not_found, "no lease " + id)));
    return false;
  }
  shard = tasks::shard_of(*task);
  return true;
}

void heartbeat(edge_context& ctx, http_request& req, responder respond) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  uint32_t shard;
  if (!lease_shard(req, respond, shard))
    return;
  pb::HeartbeatRequest body;
  if (auto err = parse_body(req, body))
    return respond(http_response::error(err));
  if (auto err = tasks::check_heartbeat_request(body))
    return respond(http_response::error(err));
  tasks::lease_call msg;
  msg.caller = caller;
  msg.lease_id = req.params["lease_id"];
  msg.lease_ms = int64_t{body.lease_sec()} * 1000;
  msg.reply = [respond](const fault& err, int64_t expires_at_ms, bool cancel_requested) {
    if (err)
      return respond(http_response::error(err));
    std::string out = "{\"lease_expires_at\":";
    append_time_json(out, expires_at_ms);
    out += cancel_requested ? ",\"cancel_requested\":true}" : ",\"cancel_requested\":false}";
    respond(http_response::json(200, std::move(out)));
  };
  to_shard(ctx, shard, caf::make_message(heartbeat_atom_v, std::move(msg)));
}

void finish(edge_context& ctx, http_request& req, responder respond, bool success) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  uint32_t shard;
  if (!lease_shard(req, respond, shard))
    return;
  tasks::lease_finish msg;
  msg.caller = caller;
  msg.lease_id = req.params["lease_id"];
  msg.success = success;
  if (success) {
    pb::CompleteRequest body;
    if (auto err = parse_body(req, body))
      return respond(http_response::error(err));
    if (body.has_result())
      msg.result = std::move(*body.mutable_result());
    else
      msg.result.set_null_value(google::protobuf::NULL_VALUE);
    if (auto err = tasks::check_free_form(msg.result, "result", ctx.tasks->opts.max_payload_bytes))
      return respond(http_response::error(err));
  } else {
    pb::FailRequest body;
    if (auto err = parse_body(req, body))
      return respond(http_response::error(err));
    if (body.error().empty())
      return respond(http_response::error(make_fault(errc::bad_request, "error is required")));
    msg.error = body.error();
    msg.retryable = body.has_retryable() ? body.retryable() : true;
  }
  msg.reply = [respond](const fault& err, tasks::task_status status, int64_t next_run_at_ms) {
    if (err)
      return respond(http_response::error(err));
    std::string out = "{\"status\":\"" + pb::Task::Status_Name(status) + "\"";
    if (next_run_at_ms > 0) {
      out += ",\"next_run_at\":";
      append_time_json(out, next_run_at_ms);
    }
    out += '}';
    respond(http_response::json(200, std::move(out)));
  };
  to_shard(ctx, shard, caf::make_message(finish_atom_v, std::move(msg)));
}

// The outcome of one lease in a batch: {"lease_id", "status", "next_run_at"?} or {"lease_id",
// "error": {code, message}}.
std::string outcome_json(const std::string& lease_id, const fault& err, tasks::task_status status,
                         int64_t next_run_at_ms) {
  std::string out = "{\"lease_id\":" + json_quote(lease_id);
  if (err) {
    out += ",\"error\":{\"code\":\"" + std::string{to_string(err.code)}
           + "\",\"message\":" + json_quote(err.message) + "}}";
    return out;
  }
  out += ",\"status\":\"" + pb::Task::Status_Name(status) + "\"";
  if (next_run_at_ms > 0) {
    out += ",\"next_run_at\":";
    append_time_json(out, next_run_at_ms);
  }
  out += '}';
  return out;
}

void complete_batch(edge_context& ctx, http_request& req, responder respond) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  pb::BatchCompleteRequest body;
  if (auto err = from_json(req.body, body))
    return respond(http_response::error(err));
  auto n = static_cast<size_t>(body.completions_size());
  if (n == 0 || n > 1000)
    return respond(http_response::error(
      make_fault(errc::bad_request, "completions must hold 1..1000 leases")));
  struct gather {
    std::mutex mtx;
    std::vector<std::string> outcomes;
    size_t pending;
    responder respond;
  };
  auto g = std::make_shared<gather>();
  g->outcomes.resize(n);
  g->pending = n;
  g->respond = std::move(respond);
  auto answer = [g](size_t i, std::string outcome) {
    std::lock_guard<std::mutex> guard{g->mtx};
    g->outcomes[i] = std::move(outcome);
    if (--g->pending > 0)
      return;
    std::string out = "{\"outcomes\":[";
    for (size_t k = 0; k < g->outcomes.size(); ++k)
      out += (k ? "," : "") + g->outcomes[k];
    out += "]}";
    g->respond(http_response::json(200, std::move(out)));
  };
  std::map<uint32_t, std::vector<tasks::lease_finish>> by_shard;
  for (size_t i = 0; i < n; ++i) {
    auto& c = *body.mutable_completions(static_cast<int>(i));
    auto task = tasks::task_of_lease(c.lease_id());
    if (!task) {
      answer(i, outcome_json(c.lease_id(), make_fault(errc::not_found, "no lease " + c.lease_id()),
                             {}, 0));
      continue;
    }
    if (auto err = tasks::check_free_form(c.result(), "result", ctx.tasks->opts.max_payload_bytes)) {
      answer(i, outcome_json(c.lease_id(), err, {}, 0));
      continue;
    }
    tasks::lease_finish msg;
    msg.caller = caller;
    msg.lease_id = c.lease_id();
    if (c.has_result())
      msg.result = std::move(*c.mutable_result());
    else
      msg.result.set_null_value(google::protobuf::NULL_VALUE);
    msg.reply = [answer, i, id = c.lease_id()](const fault& err, tasks::task_status status,
                                               int64_t next_run_at_ms) {
      answer(i, outcome_json(id, err, status, next_run_at_ms));
    };
    by_shard[tasks::shard_of(*task)].push_back(std::move(msg));
  }
  for (auto& [shard, batch] : by_shard)
    to_shard(ctx, shard, caf::make_message(finish_atom_v, std::move(batch)));
}

} // namespace

void add_task_routes(edge_context& ctx) {
  auto& r = ctx.routes;
  auto route = [&](const char* method, const char* path, auto fn) {
    r.add(method, path, [&ctx, fn](http_request& req, responder respond) {
      fn(ctx, req, std::move(respond));
    });
  };
  route("POST", "/api/v1/tasks", create_task);
  route("GET", "/api/v1/tasks", list_tasks);
  route("GET", "/api/v1/tasks/{id}", get_task);
  route("GET", "/api/v1/tasks/{id}/runs", get_runs);
  route("DELETE", "/api/v1/tasks/{id}", [](edge_context& c, http_request& q, responder p) {
    task_command(c, q, std::move(p), task_event::cancel);
  });
  route("PATCH", "/api/v1/tasks/{id}/pause", [](edge_context& c, http_request& q, responder p) {
    task_command(c, q, std::move(p), task_event::pause);
  });
  route("PATCH", "/api/v1/tasks/{id}/resume", [](edge_context& c, http_request& q, responder p) {
    task_command(c, q, std::move(p), task_event::resume);
  });
  route("POST", "/api/v1/tasks/{id}/requeue", [](edge_context& c, http_request& q, responder p) {
    task_command(c, q, std::move(p), task_event::requeue);
  });
  route("POST", "/api/v1/leases", lease);
  route("POST", "/api/v1/leases/complete", complete_batch);
  route("POST", "/api/v1/leases/{lease_id}/heartbeat", heartbeat);
  route("POST", "/api/v1/leases/{lease_id}/complete",
        [](edge_context& c, http_request& q, responder p) { finish(c, q, std::move(p), true); });
  route("POST", "/api/v1/leases/{lease_id}/fail",
        [](edge_context& c, http_request& q, responder p) { finish(c, q, std::move(p), false); });
}

} // namespace parley::net
