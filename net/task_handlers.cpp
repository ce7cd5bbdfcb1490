#include "net/task_handlers.hpp"

#include "actors/runtime/errors.hpp"
#include "actors/tasks/lease_poll.hpp"
#include "actors/tasks/shard_request.hpp"
#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_reads.hpp"
#include "actors/tasks/task_rules.hpp"
#include "actors/tasks/tasks_api.hpp"
#include "common/json_text.hpp"
#include "net/actor_answers.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/json_codec.hpp"
#include "net/task_json.hpp"

#include <caf/all.hpp>
#include <google/protobuf/util/time_util.h>

#include <atomic>
#include <map>
#include <optional>

namespace parley::net {

namespace {

using google::protobuf::util::TimeUtil;
using command_kind = pb::TaskCommand::Kind;

// Authenticates the request and says who it is for the scheduler (its user and role); on
// failure answers 401 and returns false.
bool authenticated(const edge_context& ctx, const http_request& req, responder& respond,
                   tasks::task_caller& caller) {
  jwt_claims claims;
  if (!authenticate_or_answer(req, ctx.opts.auth, claims, respond))
    return false;
  caller.set_user(claims.sub);
  caller.set_admin(claims.role == "admin");
  caller.set_worker(claims.role == "worker");
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

// Asks task shard `shard` (task_shard_api) and answers the request: `render` turns the shard's
// reply into the answer, a refusal or a timeout is the error answer.
template <class Render, class... Args>
void ask_shard(edge_context& ctx, uint32_t shard, responder respond, Render render,
               Args... args) {
  auto [on_reply, on_error] = answer_with(std::move(respond), std::move(render), task_error);
  tasks::ask_shard(ctx.sys, ctx.tasks, shard, answer_within(ctx), std::move(on_reply),
                   std::move(on_error), std::move(args)...);
}

// Tasks without an idempotency key are spread over the shards in turn: in a cluster over this
// node's shards (no hop; every node's workers hear of them), over all while it owns none.
uint32_t next_shard(const tasks::tasks_context& ctx) {
  static std::atomic<uint32_t> counter{0};
  auto first = counter.fetch_add(1, std::memory_order_relaxed);
  if (ctx.clustered())
    for (uint32_t i = 0; i < tasks::task_shard_count; ++i) {
      auto shard = (first + i) % tasks::task_shard_count;
      if (tasks::shard_here(ctx, shard))
        return shard;
    }
  return first % tasks::task_shard_count;
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
  pb::CreateTask msg;
  *msg.mutable_caller() = caller;
  if (auto err = from_json(req.body, *msg.mutable_request()))
    return respond(http_response::error(err));
  // Keys are per owner: the same key of two users names two tasks, maybe on two shards.
  auto& key = msg.request().idempotency_key();
  auto shard = key.empty() ? next_shard(*ctx.tasks)
                           : tasks::shard_of(storage::task_store::scoped_key(caller.user(), key));
  ask_shard(
    ctx, shard, std::move(respond),
    [](pb::CreatedTask& r) {
      return http_response::json(r.created() ? 201 : 200, task_json(tasks::to_public(r.task())));
    },
    create_atom_v, std::move(msg));
}

void task_command(edge_context& ctx, http_request& req, responder respond, command_kind kind) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  auto id = req.params["id"];
  if (!tasks::valid_task_id(id))
    return respond(http_response::error(make_fault(errc::not_found, "no task " + id)));
  pb::TaskCommand msg;
  *msg.mutable_caller() = caller;
  msg.set_task_id(id);
  msg.set_kind(kind);
  ask_shard(
    ctx, tasks::shard_of(id), std::move(respond),
    [](pb::StoredTask& t) { return http_response::json(200, task_json(tasks::to_public(t))); },
    command_atom_v, std::move(msg));
}

// Whether task `id` is stored on another node (in a cluster: its shard's owner): reads of it
// are asked of its shard there instead of this node's storage.
bool stored_elsewhere(const edge_context& ctx, const std::string& id) {
  return ctx.tasks->clustered() && tasks::valid_task_id(id)
         && !tasks::shard_here(*ctx.tasks, tasks::shard_of(id));
}

// A read of one task (Query and Reply: TaskRead and Task, or TaskRunsRead and TaskRuns): from
// this node's storage (`read_here`), or in a cluster through the task's shard when another node
// stores it.
template <class Query, class Reply, class ReadHere, class Render>
void read_one(edge_context& ctx, http_request& req, responder respond, ReadHere read_here,
              Render render) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  auto& id = req.params["id"];
  if (stored_elsewhere(ctx, id)) {
    Query q;
    *q.mutable_caller() = caller;
    q.set_task_id(id);
    return ask_shard(
      ctx, tasks::shard_of(id), std::move(respond),
      [render](const Reply& reply) { return render(reply); }, read_atom_v, std::move(q));
  }
  Reply out;
  if (auto err = read_here(*ctx.tasks, caller, id, out))
    return respond(http_response::error(err));
  respond(render(out));
}

void get_task(edge_context& ctx, http_request& req, responder respond) {
  read_one<pb::TaskRead, pb::Task>(
    ctx, req, std::move(respond), tasks::read_task,
    [](const pb::Task& task) { return http_response::json(200, task_json(task)); });
}

void get_runs(edge_context& ctx, http_request& req, responder respond) {
  read_one<pb::TaskRunsRead, pb::TaskRuns>(
    ctx, req, std::move(respond), tasks::read_runs,
    [](const pb::TaskRuns& runs) { return http_response::json(200, to_json(runs)); });
}

// In a cluster every node stores the tasks of its own shards: a page is this node's page merged
// with one from each other node that owns shards (asked of one of its shards), all for the same
// query (tasks::merge_pages). A node whose shards have no live owner now makes the answer
// `unavailable` rather than a page with holes.
void list_across_nodes(edge_context& ctx, const tasks::task_caller& caller,
                       const tasks::task_query& q, pb::TaskList local, responder respond) {
  std::map<std::string, uint32_t> shard_of_node;  // one shard of every other node
  for (uint32_t shard = 0; shard < tasks::task_shard_count; ++shard) {
    auto where = ctx.tasks->router->locate(tasks::shard_kind, std::to_string(shard));
    if (where.at == runtime::entity_location::where::unavailable)
      return respond(http_response::error(make_fault(
        errc::unavailable, "task shard " + std::to_string(shard) + " has no live owner now (was "
                             + where.node + "); retry shortly")));
    if (where.at == runtime::entity_location::where::remote)
      shard_of_node.emplace(where.node, shard);
  }
  if (shard_of_node.empty())
    return respond(http_response::json(200, to_json(local)));
  struct gathered {
    std::vector<pb::TaskList> pages;
    size_t left = 0;
    size_t limit = 0;
    std::optional<fault> failed;
    responder respond;
  };
  auto st = std::make_shared<gathered>();
  st->pages.push_back(std::move(local));
  st->left = shard_of_node.size();
  st->limit = q.limit;
  st->respond = std::move(respond);
  auto read = tasks::to_list_read(caller, q);
  ctx.sys.spawn([st, shard_of_node, read, tasks = ctx.tasks,
                 within = answer_within(ctx)](caf::event_based_actor* self) {
    auto settle = [st] {
      if (--st->left > 0)
        return;
      if (st->failed)
        return st->respond(http_response::error(*st->failed));
      st->respond(
        http_response::json(200, to_json(tasks::merge_pages(std::move(st->pages), st->limit))));
    };
    for (auto& [node, shard] : shard_of_node)
      tasks::request_shard(
        self, tasks, shard, within,
        [st, settle](pb::TaskList& page) {
          st->pages.push_back(std::move(page));
          settle();
        },
        [st, settle](caf::error& e) {
          st->failed = to_fault(e);
          settle();
        },
        read_atom_v, read);
  });
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
  if (ctx.tasks->clustered())
    return list_across_nodes(ctx, caller, q, std::move(page), std::move(respond));
  respond(http_response::json(200, to_json(page)));
}

// Long polls go through a lease poll (actors/tasks/lease_poll.hpp): when the worker hangs up,
// its wait is withdrawn and nothing is leased for it.
void lease(edge_context& ctx, http_request& req, responder respond) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  pb::LeaseWait wait;
  *wait.mutable_caller() = caller;  // an ordinary user's worker leases only that user's tasks
  auto& r = *wait.mutable_request();
  if (auto err = from_json(req.body, r))
    return respond(http_response::error(err));
  if (auto err = tasks::check_lease_request(r))
    return respond(http_response::error(err));
  auto wait_ms = r.wait_ms();
  req.answer_within += std::chrono::milliseconds{wait_ms};  // a long poll answers late on purpose
  // The poll calls exactly one of its two replies; they share the request's one responder.
  auto owner = std::make_shared<const responder>(std::move(respond));
  tasks::lease_poll_replies replies;
  replies.deliver = [owner](const pb::LeaseResponse& leases) {
    return owner->answer(http_response::json(200, leases_json(leases)));
  };
  replies.fail = [owner](const caf::error& err) {
    (*owner)(http_response::error(to_fault(err)));
  };
  auto poll = tasks::spawn_lease_poll(ctx.sys, ctx.tasks, std::move(wait), req.answer_within,
                                      std::move(replies));
  if (wait_ms > 0 && req.watch_disconnect)
    req.watch_disconnect([poll] { caf::anon_send(poll, closed_atom_v); });
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
  pb::HeartbeatLease msg;
  *msg.mutable_caller() = caller;
  msg.set_lease_id(req.params["lease_id"]);
  msg.set_lease_ms(int64_t{body.lease_sec()} * 1000);
  ask_shard(
    ctx, shard, std::move(respond),
    [](pb::HeartbeatResponse& r) {
      std::string out = "{\"lease_expires_at\":";
      append_time_json(out, TimeUtil::TimestampToMilliseconds(r.lease_expires_at()));
      out += r.cancel_requested() ? ",\"cancel_requested\":true}" : ",\"cancel_requested\":false}";
      return http_response::json(200, std::move(out));
    },
    heartbeat_atom_v, std::move(msg));
}

// "status":"…" and, for a task that waits again, ,"next_run_at":"…".
void append_outcome(std::string& out, const pb::LeaseOutcome& o) {
  out += "\"status\":\"" + pb::Task::Status_Name(o.status()) + "\"";
  if (o.has_next_run_at()) {
    out += ",\"next_run_at\":";
    append_time_json(out, TimeUtil::TimestampToMilliseconds(o.next_run_at()));
  }
}

void finish(edge_context& ctx, http_request& req, responder respond, bool success) {
  tasks::task_caller caller;
  if (!authenticated(ctx, req, respond, caller))
    return;
  uint32_t shard;
  if (!lease_shard(req, respond, shard))
    return;
  pb::FinishLease msg;
  *msg.mutable_caller() = caller;
  msg.set_lease_id(req.params["lease_id"]);
  msg.set_success(success);
  if (success) {
    pb::CompleteRequest body;
    if (auto err = parse_body(req, body))
      return respond(http_response::error(err));
    if (body.has_result())
      *msg.mutable_result() = std::move(*body.mutable_result());
    else
      msg.mutable_result()->set_null_value(google::protobuf::NULL_VALUE);
    if (auto err = tasks::check_free_form(msg.result(), "result",
                                          ctx.tasks->opts.max_payload_bytes))
      return respond(http_response::error(err));
  } else {
    pb::FailRequest body;
    if (auto err = parse_body(req, body))
      return respond(http_response::error(err));
    if (body.error().empty())
      return respond(http_response::error(make_fault(errc::bad_request, "error is required")));
    msg.set_error(body.error());
    msg.set_retryable(body.has_retryable() ? body.retryable() : true);
  }
  ask_shard(
    ctx, shard, std::move(respond),
    [](pb::LeaseOutcome& o) {
      std::string out = "{";
      append_outcome(out, o);
      out += '}';
      return http_response::json(200, std::move(out));
    },
    finish_atom_v, std::move(msg));
}

// The outcome of one lease in a batch: {"lease_id", "status", "next_run_at"?} or {"lease_id",
// "error": {code, message}}.
std::string done_json(const std::string& lease_id, const pb::LeaseOutcome& o) {
  std::string out = "{\"lease_id\":" + json_quote(lease_id) + ",";
  append_outcome(out, o);
  out += '}';
  return out;
}

std::string refused_json(const std::string& lease_id, std::string_view code,
                         const std::string& message) {
  return "{\"lease_id\":" + json_quote(lease_id) + ",\"error\":{\"code\":\"" + std::string{code}
         + "\",\"message\":" + json_quote(message) + "}}";
}

std::string refused_json(const std::string& lease_id, const fault& err) {
  return refused_json(lease_id, to_string(err.code), err.message);
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
  // Outcomes known here come first, then those of the shards, all in one actor (below): one
  // thread at a time, answered once all are in.
  struct gather {
    std::vector<std::string> outcomes;
    size_t pending;
    responder respond;
  };
  auto g = std::make_shared<gather>();
  g->outcomes.resize(n);
  g->pending = n;
  g->respond = std::move(respond);
  auto answer = [g](size_t i, std::string outcome) {
    g->outcomes[i] = std::move(outcome);
    if (--g->pending > 0)
      return;
    std::string out = "{\"outcomes\":[";
    for (size_t k = 0; k < g->outcomes.size(); ++k)
      out += (k ? "," : "") + g->outcomes[k];
    out += "]}";
    g->respond(http_response::json(200, std::move(out)));
  };
  struct shard_batch {
    pb::FinishLeases finishes;
    std::vector<size_t> positions;  // of each finish in the request
  };
  std::map<uint32_t, shard_batch> by_shard;
  for (size_t i = 0; i < n; ++i) {
    auto& c = *body.mutable_completions(static_cast<int>(i));
    auto task = tasks::task_of_lease(c.lease_id());
    if (!task) {
      answer(i, refused_json(c.lease_id(),
                             make_fault(errc::not_found, "no lease " + c.lease_id())));
      continue;
    }
    if (auto err = tasks::check_free_form(c.result(), "result", ctx.tasks->opts.max_payload_bytes)) {
      answer(i, refused_json(c.lease_id(), err));
      continue;
    }
    auto& batch = by_shard[tasks::shard_of(*task)];
    auto& msg = *batch.finishes.add_finishes();
    *msg.mutable_caller() = caller;
    msg.set_lease_id(c.lease_id());
    msg.set_success(true);
    if (c.has_result())
      *msg.mutable_result() = std::move(*c.mutable_result());
    else
      msg.mutable_result()->set_null_value(google::protobuf::NULL_VALUE);
    batch.positions.push_back(i);
  }
  if (by_shard.empty())
    return;
  // One actor asks every shard concerned (one durable write each) and gathers their outcomes.
  ctx.sys.spawn([tasks = ctx.tasks, within = ctx.opts.server.answer_timeout, answer,
                 by_shard = std::move(by_shard)](caf::event_based_actor* self) mutable {
    for (auto& [shard, batch] : by_shard) {
      std::vector<std::string> lease_ids;
      for (auto& f : batch.finishes.finishes())
        lease_ids.push_back(f.lease_id());
      tasks::request_shard(
        self, tasks, shard, within,
        [answer, positions = batch.positions](pb::FinishOutcomes& r) {
          for (int k = 0; k < r.outcomes_size(); ++k) {
            auto& o = r.outcomes(k);
            auto i = positions[static_cast<size_t>(k)];
            if (o.has_refused())
              answer(i, refused_json(o.lease_id(), o.refused().code(), o.refused().message()));
            else
              answer(i, done_json(o.lease_id(), o.done()));
          }
        },
        [answer, positions = batch.positions, lease_ids](caf::error& e) {
          auto err = to_fault(e);
          for (size_t k = 0; k < positions.size(); ++k)
            answer(positions[k], refused_json(lease_ids[k], err));
        },
        finish_atom_v, std::move(batch.finishes));
    }
  });
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
    task_command(c, q, std::move(p), pb::TaskCommand::CANCEL);
  });
  route("PATCH", "/api/v1/tasks/{id}/pause", [](edge_context& c, http_request& q, responder p) {
    task_command(c, q, std::move(p), pb::TaskCommand::PAUSE);
  });
  route("PATCH", "/api/v1/tasks/{id}/resume", [](edge_context& c, http_request& q, responder p) {
    task_command(c, q, std::move(p), pb::TaskCommand::RESUME);
  });
  route("POST", "/api/v1/tasks/{id}/requeue", [](edge_context& c, http_request& q, responder p) {
    task_command(c, q, std::move(p), pb::TaskCommand::REQUEUE);
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
