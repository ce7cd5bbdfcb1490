#include "net/admin_handlers.hpp"

#include "actors/admin/command_registry.hpp"
#include "actors/runtime/errors.hpp"
#include "net/actor_answers.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/json_codec.hpp"
#include "net/static_files.hpp"

#include "common/clock.hpp"

#include <google/protobuf/struct.pb.h>

#include <atomic>
#include <charconv>
#include <cmath>

namespace parley::net {

namespace {

// The caller of an admin request, or the fault that refuses it (401 without a valid token,
// 403 without a console role). `allow_query`: `?token=` stands in for the header (EventSource
// cannot set one).
fault admin_caller(const edge_context& ctx, const http_request& req, pb::AdminCaller& out,
                   bool allow_query = false) {
  jwt_claims claims;
  if (auto err = authenticate(req, ctx.opts.auth, allow_query, claims))
    return err;
  if (claims.role != admin::viewer_role && claims.role != admin::admin_role)
    return make_fault(errc::forbidden, "the admin API needs a token with role viewer or admin");
  out.set_user(claims.sub);
  out.set_role(claims.role);
  return {};
}

// A JSON scalar as the command-line text parleyctl would have sent: strings as they are,
// integral numbers without a fraction, booleans as true/false.
fault arg_text(const std::string& name, const google::protobuf::Value& v, std::string& out) {
  using K = google::protobuf::Value::KindCase;
  switch (v.kind_case()) {
    case K::kStringValue: out = v.string_value(); return {};
    case K::kBoolValue: out = v.bool_value() ? "true" : "false"; return {};
    case K::kNumberValue:
      if (std::floor(v.number_value()) == v.number_value() && std::abs(v.number_value()) < 1e15) {
        out = std::to_string(static_cast<int64_t>(v.number_value()));
        return {};
      }
      break;
    default: break;
  }
  return make_fault(errc::bad_request,
                    "argument " + name + " must be a string, an integer or a boolean");
}

// The body: a JSON object of arguments by name (empty body: none).
fault parse_args(const std::string& body, pb::AdminRequest& out) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    return {};
  google::protobuf::Struct args;
  if (auto err = from_json(body, args))
    return err;
  for (auto& [name, value] : args.fields()) {
    std::string text;
    if (auto err = arg_text(name, value, text))
      return err;
    (*out.mutable_args())[name] = std::move(text);
  }
  return {};
}

// A non-negative integer of a query parameter or header; `fallback` when absent.
fault whole_number(const std::string& name, const std::string& text, int64_t fallback,
                   int64_t& out) {
  out = fallback;
  if (text.empty())
    return {};
  auto end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc{} || ptr != end || out < 0)
    return make_fault(errc::bad_request, name + " must be a whole number");
  return {};
}

constexpr int64_t max_backlog_sec = 900;  // the node keeps 15 minutes of samples

// GET /admin/v1/samples: the node's samples as Server-Sent Events, `?seconds=` (0..900, default
// 900) of backlog first, or those after the `Last-Event-ID` a reconnecting client sends.
void add_sample_stream(edge_context& ctx, const admin_route_options& opts) {
  auto open = std::make_shared<std::atomic<size_t>>(0);
  ctx.routes.add("GET", "/admin/v1/samples", [&ctx, opts, open](http_request& req,
                                                                responder respond) {
    pb::AdminCaller caller;
    if (auto err = admin_caller(ctx, req, caller, true))
      return respond(http_response::error(err));
    int64_t seconds = 0;
    int64_t last_id = 0;
    if (auto err = whole_number("seconds", req.query_param("seconds"), max_backlog_sec, seconds))
      return respond(http_response::error(err));
    if (auto err = whole_number("Last-Event-ID", req.header("last-event-id"), 0, last_id))
      return respond(http_response::error(err));
    auto busy = [&](const std::string& why) {
      auto res = http_response::error(make_fault(errc::unavailable, why));
      res.headers.emplace_back("Retry-After", "5");
      respond(std::move(res));
    };
    // Streams pin clients to this listener: a draining one takes no new ones (node.samples
    // still answers).
    if (ctx.draining.load() || ctx.lame_duck.load())
      return busy("the node is draining: no new sample streams here (node.samples answers)");
    if (open->fetch_add(1) >= opts.max_streams) {
      open->fetch_sub(1);
      return busy("too many sample streams open (admin.max_streams = "
                  + std::to_string(opts.max_streams) + ")");
    }
    event_stream stream;
    stream.source = opts.samples;
    stream.after = std::max(unix_ms() - std::min(seconds, max_backlog_sec) * 1000, last_id);
    stream.hold = std::shared_ptr<void>(nullptr, [open](void*) { open->fetch_sub(1); });
    respond(http_response::events(std::move(stream)));
  });
}

} // namespace

void add_admin_routes(edge_context& ctx, admin::admin_api admin, admin_route_options opts) {
  auto& r = ctx.routes;
  add_sample_stream(ctx, opts);
  add_admin_page_routes(ctx, opts.web_dir);
  r.add("GET", "/admin/v1/commands", [&ctx](http_request& req, responder respond) {
    pb::AdminCaller caller;
    if (auto err = admin_caller(ctx, req, caller))
      return respond(http_response::error(err));
    respond(http_response::json(200, to_json(admin::to_proto(admin::commands()))));
  });
  // The route holds the admin actor weakly: the actor runs detached, and a detached actor's
  // thread (so the actor system's shutdown) waits for its last handle, which a strong one in
  // the route table would keep until the edge is destroyed.
  r.add("POST", "/admin/v1/{command}", [&ctx, where = admin.address()](http_request& req,
                                                                       responder respond) {
    auto admin = caf::actor_cast<admin::admin_api>(caf::actor_cast<caf::strong_actor_ptr>(where));
    if (!admin)
      return respond(http_response::error(make_fault(errc::unavailable, "the node is stopping")));
    pb::AdminRequest command;
    if (auto err = admin_caller(ctx, req, *command.mutable_caller()))
      return respond(http_response::error(err));
    command.set_command(req.params["command"]);
    if (auto err = parse_args(req.body, command))
      return respond(http_response::error(err));
    ask_and_answer(
      ctx, admin, std::move(respond),
      [](pb::AdminReply& reply) { return http_response::json(200, to_json(reply)); }, run_atom_v,
      std::move(command));
  });
}

} // namespace parley::net
