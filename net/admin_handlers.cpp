#include "net/admin_handlers.hpp"

#include "actors/admin/command_registry.hpp"
#include "actors/runtime/errors.hpp"
#include "net/actor_answers.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/json_codec.hpp"

#include <google/protobuf/struct.pb.h>

#include <cmath>

namespace parley::net {

namespace {

// The caller of an admin request, or the fault that refuses it (401 without a valid token,
// 403 without a console role).
fault admin_caller(const edge_context& ctx, const http_request& req, pb::AdminCaller& out) {
  jwt_claims claims;
  if (auto err = authenticate(req, ctx.opts.auth, false, claims))
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

} // namespace

void add_admin_routes(edge_context& ctx, admin::admin_api admin) {
  auto& r = ctx.routes;
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
