#include "net/ops_handlers.hpp"

#include "actors/feed/graph_actor.hpp"
#include "common/metrics.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/json_codec.hpp"
#include "proto/parley.pb.h"

#include <google/protobuf/util/time_util.h>

namespace parley::net {

namespace {

constexpr const char* version = "0.1.0";

http_response health(const edge_context& ctx, bool ok, const char* not_ok = "starting") {
  pb::Health h;
  h.set_status(ok ? "ok" : not_ok);
  h.set_node(ctx.node_id);
  h.set_version(version);
  return http_response::json(ok ? 200 : 503, to_json(h));
}

void dev_token(const edge_context& ctx, http_request& req, responder respond) {
  pb::DevTokenRequest body;
  if (auto err = from_json(req.body, body))
    return respond(http_response::error(err));
  if (body.user_id().empty())
    return respond(http_response::error(make_fault(errc::bad_request, "user_id is required")));
  if (!valid_user_id(body.user_id()))
    return respond(http_response::error(
      make_fault(errc::bad_request, "user_id must match [A-Za-z0-9_.-]{1,64}")));
  if (!body.role().empty() && body.role() != "admin" && body.role() != "worker"
      && body.role() != "viewer")
    return respond(http_response::error(make_fault(
      errc::bad_request, "role must be \"admin\", \"viewer\", \"worker\" or absent")));
  if (!body.tier().empty() && !valid_identifier(body.tier(), 32))
    return respond(http_response::error(
      make_fault(errc::bad_request, "tier must match [A-Za-z0-9_.-]{1,32}")));
  jwt_claims claims;
  claims.sub = body.user_id();
  claims.iat = unix_now();
  claims.exp = claims.iat + ctx.opts.auth.dev_token_ttl.count();
  claims.role = body.role();
  claims.tier = body.tier();
  pb::DevTokenResponse out;
  out.set_token(jwt_sign(claims, ctx.opts.auth.jwt_secret));
  if (ctx.feed)  // the user exists from now on (others may follow them)
    feed::make_known(*ctx.feed, body.user_id());
  *out.mutable_expires_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(claims.exp);
  respond(http_response::json(200, to_json(out)));
}

} // namespace

void add_ops_routes(edge_context& ctx) {
  auto& r = ctx.routes;
  r.add("GET", "/healthz", [&ctx](http_request&, responder respond) {
    respond(health(ctx, true));
  });
  r.add("GET", "/readyz", [&ctx](http_request&, responder respond) {
    if (ctx.lame_duck.load())  // a drain: load balancers take the node out of rotation
      return respond(health(ctx, false, "draining"));
    respond(health(ctx, ctx.ready.load() && (!ctx.ready_check || ctx.ready_check())));
  });
  r.add("GET", "/metrics", [](http_request&, responder respond) {
    respond(http_response::text(200, metrics::global().render(),
                                "text/plain; version=0.0.4; charset=utf-8"));
  });
  r.add("GET", "/ws", [](http_request&, responder respond) {
    auto res = http_response::error(
      make_fault(errc::bad_request, "GET /ws expects a WebSocket upgrade"));
    res.status = 426;
    res.headers.emplace_back("Upgrade", "websocket");
    respond(std::move(res));
  });
  if (ctx.opts.auth.dev_tokens)
    r.add("POST", "/api/v1/dev/token", [&ctx](http_request& req, responder respond) {
      dev_token(ctx, req, std::move(respond));
    });
}

} // namespace parley::net
