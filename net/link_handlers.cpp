#include "net/link_handlers.hpp"

#include "actors/links/link_reads.hpp"
#include "actors/links/link_rules.hpp"
#include "actors/links/links_api.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "net/actor_answers.hpp"
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

// The link service's record rendered as the public Link of this request's host.
auto render_link(int status, std::string base) {
  return [status, base = std::move(base)](const pb::LinkRecord& rec) {
    return http_response::json(status, to_json(links::to_public(rec.key(), rec.link(), base)));
  };
}

void create_link(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::NewLink msg;
  if (auto err = from_json(req.body, *msg.mutable_request()))
    return respond(http_response::error(err));
  msg.set_owner_id(claims.sub);
  // An alias is created by the node that owns it; a generated key by this node's service, which
  // draws keys of its own partitions (links_api.hpp).
  auto& alias = msg.request().custom_alias();
  auto service = alias.empty() ? caf::expected<links::link_service_api>{ctx.links->service}
                               : ctx.links->service_for(alias);
  ask_routed_and_answer(ctx, std::move(service), std::move(respond),
                        render_link(201, short_base(ctx, req)), create_atom_v, std::move(msg));
}

void delete_link(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::LinkDeletion msg;
  msg.set_key(req.params["key"]);
  msg.set_user_id(claims.sub);
  msg.set_admin(claims.role == "admin");
  auto service = ctx.links->service_for(msg.key());
  ask_routed_and_answer(
    ctx, std::move(service), std::move(respond),
    [] { return http_response::text(204, {}, "application/json"); }, delete_atom_v,
    std::move(msg));
}

void get_link(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::LinkKey q;
  q.set_key(req.params["key"]);
  auto service = ctx.links->service_for(q.key());
  ask_routed_and_answer(ctx, std::move(service), std::move(respond),
                        render_link(200, short_base(ctx, req)), read_atom_v, std::move(q));
}

void get_stats(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::LinkStatsQuery q;
  q.set_key(req.params["key"]);
  auto service = ctx.links->service_for(q.key());
  ask_routed_and_answer(
    ctx, std::move(service), std::move(respond),
    [](const pb::LinkStats& stats) { return http_response::json(200, to_json(stats)); },
    read_atom_v, std::move(q));
}

// What a redirect needs of its request once the link is known (the request itself may be gone
// by the time the link service answers a cache miss).
struct redirect_request {
  std::string key;
  std::string referrer;
  std::string user_agent;
  int64_t at_ms = 0;
};

// The answer to a redirect whose link is `found`; a found one counts a click.
http_response redirect_answer(edge_context& ctx, redirect_request r, links::resolution found) {
  if (found.what == links::resolution::not_found) {
    instruments().missing.inc();
    return http_response::error(make_fault(errc::not_found, "no link at /" + r.key));
  }
  if (found.what == links::resolution::expired) {
    instruments().expired.inc();
    return http_response::error(make_fault(errc::gone, "link " + r.key + " has expired"));
  }
  instruments().found.inc();
  links::click c;
  c.referrer = links::referrer_host(r.referrer);
  c.user_agent = std::move(r.user_agent);
  c.at_ms = r.at_ms;
  c.key = std::move(r.key);
  ctx.links->clicks.push(std::move(c));  // never waits: a full queue drops the click
  http_response res;
  res.status = found.status;
  res.content_type = "text/plain; charset=utf-8";
  res.headers.emplace_back("Location", std::move(found.long_url));
  return res;
}

// A redirect is answered from the node's cache inline (memory only); a miss asks the link
// service of the key's owner (this node's on a single node), which reads the store, and fills
// the cache with its answer. The epoch read before asking keeps a delete or purge that lands
// meanwhile from being undone by that fill.
void redirect(edge_context& ctx, http_request& req, responder respond) {
  // Only `GET|HEAD /{key}` is a redirect; any other unmatched request has no route.
  auto key = req.path.size() > 1 ? req.path.substr(1) : std::string{};
  if ((req.method != "GET" && req.method != "HEAD") || key.empty()
      || key.find('/') != std::string::npos)
    return respond(http_response::error(make_fault(errc::not_found, "no route for " + req.path)));
  if (!links::plausible_key(key)) {
    instruments().missing.inc();
    return respond(http_response::error(make_fault(errc::not_found, "no link at " + req.path)));
  }
  redirect_request r{std::move(key), req.header("referer"), req.header("user-agent"), unix_ms()};
  auto& cache = ctx.links->cache;
  if (auto hit = cache.get(r.key);
      hit && (hit->refresh_after_ms == 0 || r.at_ms < hit->refresh_after_ms)) {
    auto found = links::resolve(std::move(*hit), r.at_ms);
    return respond(redirect_answer(ctx, std::move(r), std::move(found)));
  }
  auto epoch = cache.epoch(r.key);
  pb::LinkKey q;
  q.set_key(r.key);
  // In a cluster a miss asks the key's owner (one hop); its answer fills this node's cache.
  auto service = ctx.links->service_for(r.key);
  bool remote = !ctx.links->owns(r.key);
  ask_routed_and_answer(
    ctx, std::move(service), std::move(respond),
    [&ctx, r, epoch, remote](const pb::LinkLookup& lookup) mutable {
      // Unknown keys are not cached: the bloom filters answer them without a disk read, and a
      // negative entry would hide an alias created a moment later.
      if (!lookup.found())
        return redirect_answer(ctx, std::move(r), links::resolution{});
      auto link = links::to_cached(lookup.link());
      if (remote)
        link.refresh_after_ms = r.at_ms + links::remote_cache_ms;
      ctx.links->cache.put(r.key, link, epoch);
      auto found = links::resolve(std::move(link), r.at_ms);
      return redirect_answer(ctx, std::move(r), std::move(found));
    },
    resolve_atom_v, std::move(q));
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
