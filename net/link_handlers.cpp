#include "net/link_handlers.hpp"
#include "common/clock.hpp"

#include "actors/links/link_reads.hpp"
#include "actors/links/link_rules.hpp"
#include "actors/links/link_service.hpp"
#include "actors/runtime/atoms.hpp"
#include "common/metrics.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/json_codec.hpp"

#include <caf/all.hpp>

namespace parley::net {

namespace {

// Always refused as aliases, on top of the router's first segments: names a future route or a
// browser's automatic request may take.
const char* const fixed_reserved[] = {"api", "ws", "healthz", "readyz", "metrics", "admin",
                                      "static", "favicon.ico", "robots.txt", "index.html",
                                      "login", "logout", "assets", "docs"};

struct redirect_metrics {
  metrics::counter& found = metrics::global().get_counter(
    "redirects_total", "Short-link redirects answered", "result=\"found\"");
  metrics::counter& missing = metrics::global().get_counter(
    "redirects_total", "Short-link redirects answered", "result=\"not_found\"");
  metrics::counter& expired = metrics::global().get_counter(
    "redirects_total", "Short-link redirects answered", "result=\"expired\"");
};

redirect_metrics& instruments() {
  static redirect_metrics m;
  return m;
}

bool valid_host_header(const std::string& host) {
  if (host.empty() || host.size() > 255)
    return false;
  for (unsigned char c : host)
    if (!std::isalnum(c) && c != '.' && c != '-' && c != ':' && c != '[' && c != ']')
      return false;
  return true;
}

// "https://prly.example" from links.base_url, else from the request's Host.
std::string short_base(const edge_context& ctx, const http_request& req) {
  if (!ctx.links->opts.base_url.empty())
    return ctx.links->opts.base_url;
  auto& host = req.header("host");
  if (valid_host_header(host))
    return "http://" + host;
  return "http://" + ctx.opts.server.host + ":" + std::to_string(ctx.opts.server.port);
}

bool authenticated(const edge_context& ctx, const http_request& req, jwt_claims& claims,
                   responder& respond) {
  return authenticate_or_answer(req, ctx.opts.auth, claims, respond);
}

void create_link(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  links::link_create msg;
  if (auto err = from_json(req.body, msg.request))
    return respond(http_response::error(err));
  msg.owner = claims.sub;
  msg.reply = [respond, base = short_base(ctx, req)](const fault& err, const std::string& key,
                                                     const pb::StoredLink& link) {
    if (err)
      return respond(http_response::error(err));
    respond(http_response::json(201, to_json(links::to_public(key, link, base))));
  };
  caf::anon_send(ctx.links->service, create_atom_v, std::move(msg));
}

void delete_link(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  links::link_delete msg;
  msg.key = req.params["key"];
  msg.user = claims.sub;
  msg.admin = claims.role == "admin";
  msg.reply = [respond](const fault& err) {
    respond(err ? http_response::error(err) : http_response::text(204, {}, "application/json"));
  };
  caf::anon_send(ctx.links->service, delete_atom_v, std::move(msg));
}

void get_link(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::Link link;
  if (auto err = links::describe(*ctx.links, req.params["key"], short_base(ctx, req), unix_ms(),
                                 link))
    return respond(http_response::error(err));
  respond(http_response::json(200, to_json(link)));
}

void get_stats(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::LinkStats stats;
  if (auto err = links::link_stats(*ctx.links, req.params["key"], unix_ms(), stats))
    return respond(http_response::error(err));
  respond(http_response::json(200, to_json(stats)));
}

void redirect(edge_context& ctx, http_request& req, responder respond) {
  auto not_found = [&] {
    instruments().missing.inc();
    respond(http_response::error(make_fault(errc::not_found, "no link at " + req.path)));
  };
  // Only `GET|HEAD /{key}` is a redirect; any other unmatched request has no route.
  auto key = req.path.size() > 1 ? req.path.substr(1) : std::string{};
  if ((req.method != "GET" && req.method != "HEAD") || key.empty()
      || key.find('/') != std::string::npos)
    return respond(http_response::error(make_fault(errc::not_found, "no route for " + req.path)));
  if (!links::plausible_key(key))
    return not_found();
  fault err;
  auto now = unix_ms();
  auto r = links::resolve(*ctx.links, key, now, err);
  if (err)
    return respond(http_response::error(err));
  if (r.what == links::resolution::not_found)
    return not_found();
  if (r.what == links::resolution::expired) {
    instruments().expired.inc();
    return respond(http_response::error(make_fault(errc::gone, "link " + key + " has expired")));
  }
  instruments().found.inc();
  links::click c;
  c.referrer = links::referrer_host(req.header("referer"));
  c.user_agent = req.header("user-agent");
  c.at_ms = now;
  c.key = std::move(key);
  ctx.links->clicks.push(std::move(c));  // never waits: a full queue drops the click
  http_response res;
  res.status = r.status;
  res.content_type = "text/plain; charset=utf-8";
  res.headers.emplace_back("Location", std::move(r.long_url));
  respond(std::move(res));
}

} // namespace

void add_link_routes(edge_context& ctx) {
  auto& r = ctx.routes;
  r.add("POST", "/api/v1/urls", [&ctx](http_request& req, responder respond) {
    create_link(ctx, req, std::move(respond));
  });
  r.add("GET", "/api/v1/urls/{key}", [&ctx](http_request& req, responder respond) {
    get_link(ctx, req, std::move(respond));
  });
  r.add("DELETE", "/api/v1/urls/{key}", [&ctx](http_request& req, responder respond) {
    delete_link(ctx, req, std::move(respond));
  });
  r.add("GET", "/api/v1/urls/{key}/stats", [&ctx](http_request& req, responder respond) {
    get_stats(ctx, req, std::move(respond));
  });
  r.set_fallback([&ctx](http_request& req, responder respond) {
    redirect(ctx, req, std::move(respond));
  });
  auto reserved = r.reserved_segments();
  reserved.insert(std::begin(fixed_reserved), std::end(fixed_reserved));
  ctx.links->reserved_segments = std::move(reserved);
}

} // namespace parley::net
