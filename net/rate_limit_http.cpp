#include "net/rate_limit_http.hpp"

#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/json_codec.hpp"
#include "actors/limits/limit_service.hpp"

#include <caf/all.hpp>
#include "proto/parley.pb.h"

namespace parley::net {

void add_rate_limit_headers(http_response& res, const limits::decision& d, int64_t now_ms) {
  auto reset_sec = std::max<int64_t>(0, (d.reset_ms - now_ms + 999) / 1000);
  res.headers.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
  res.headers.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
  res.headers.emplace_back("X-RateLimit-Reset", std::to_string((d.reset_ms + 999) / 1000));
  res.headers.emplace_back("RateLimit-Policy", "\"" + d.rule + "\";q=" + std::to_string(d.limit)
                                                 + ";w=" + std::to_string(d.window_sec));
  res.headers.emplace_back("RateLimit", "\"" + d.rule + "\";r=" + std::to_string(d.remaining)
                                          + ";t=" + std::to_string(reset_sec));
}

http_response rate_limited(const limits::decision& d, int64_t now_ms) {
  pb::ErrorBody body;
  auto* e = body.mutable_error();
  e->set_code("rate_limited");
  e->set_message("rate limit \"" + d.rule + "\" exceeded; retry in "
                 + std::to_string(d.retry_after_ms) + " ms");
  e->set_retry_after_ms(d.retry_after_ms);
  auto res = http_response::json(429, to_json(body));
  res.headers.emplace_back("Retry-After", std::to_string((d.retry_after_ms + 999) / 1000));
  add_rate_limit_headers(res, d, now_ms);
  return res;
}

void decide_remote(edge_context& ctx, limits::decision d, caf::timespan within,
                   std::function<void(limits::decision)> done) {
  auto limiter = ctx.limiter;
  auto router = ctx.services;
  ctx.sys.spawn([limiter, router, d = std::move(d), within,
                 done = std::move(done)](caf::event_based_actor* self) mutable {
    auto checks = std::move(d.remote);
    d.remote.clear();
    struct pending_state {
      limits::decision d;
      size_t left = 0;
      std::function<void(limits::decision)> done;
    };
    auto st = std::make_shared<pending_state>(pending_state{std::move(d), checks.size(), std::move(done)});
    auto settle = [st, limiter](const limits::decision* verdict, const limits::remote_check& c) {
      if (verdict)
        limits::rate_limiter::fold(st->d, *verdict);
      else
        limits::rate_limiter::fold(st->d, limiter->undecided(c));
      if (--st->left == 0)
        st->done(std::move(st->d));
    };
    if (checks.empty())
      return st->done(std::move(st->d));
    for (auto& c : checks) {
      auto owner = router ? router->route_as<limits::limit_service_api>(limits::limit_service_name,
                                                                         c.key)
                          : caf::expected<limits::limit_service_api>{caf::sec::invalid_argument};
      if (!owner) {
        settle(nullptr, c);
        continue;
      }
      self->request(*owner, within, limit_check_atom_v, limits::to_ask(c))
        .then(
          [settle, c](pb::RateLimitVerdict& v) {
            auto verdict = limits::from_verdict(v);
            settle(&verdict, c);
          },
          [settle, c](caf::error&) { settle(nullptr, c); });
    }
  });
}

namespace {

// The responder that adds the rate-limit headers of `d` to the request's answer.
responder with_headers(responder respond, const limits::decision& d, int64_t now) {
  return [inner = std::move(respond), d, now](http_response res) {
    // The check API describes its own rule: one set of headers per response.
    bool described = false;
    for (auto& [name, value] : res.headers)
      described = described || name == "X-RateLimit-Limit";
    if (!described)
      add_rate_limit_headers(res, d, now);
    inner(std::move(res));
  };
}

} // namespace

bool admit_http(edge_context& ctx, const http_request& req, responder& respond,
                bool allow_query, const std::function<resume_fn()>& later) {
  auto* limiter = ctx.limiter.get();
  if (!limiter || !limiter->has_http_rules())
    return true;
  limits::subject who;
  who.ip = req.remote_ip;
  who.api_key = req.header("x-api-key");
  jwt_claims claims;
  // Verifying the token costs an HMAC: only when a rule keys by user or has tiers. An invalid
  // token counts as anonymous here; the handler itself answers 401.
  if (limiter->http_rules_need_identity()
      && !authenticate(req, ctx.opts.auth, allow_query, claims)) {
    who.user = claims.sub;
    who.tier = claims.tier;
  }
  auto d = limiter->check_http(req.method, req.path, who);
  if (!d.remote.empty()) {
    auto now = limiter->now_ms();
    // Refused here already: the other nodes need not count it either.
    if (d.matched && !d.allowed) {
      respond(rate_limited(d, now));
      return false;
    }
    if (!later) {
      for (auto& c : d.remote)
        limits::rate_limiter::fold(d, limiter->undecided(c));
      d.remote.clear();
    } else {
      auto resume = later();
      auto holder = std::make_shared<responder>(std::move(respond));
      decide_remote(ctx, std::move(d), ctx.opts.server.answer_timeout,
                    [holder, resume, limiter](limits::decision decided) {
                      auto now = limiter->now_ms();
                      if (!decided.allowed)
                        return (*holder)(rate_limited(decided, now));
                      if (!decided.matched)
                        return resume(std::move(*holder));
                      resume(with_headers(std::move(*holder), decided, now));
                    });
      return false;
    }
  }
  if (!d.matched)
    return true;
  auto now = limiter->now_ms();
  if (!d.allowed) {
    respond(rate_limited(d, now));
    return false;
  }
  respond = with_headers(std::move(respond), d, now);
  return true;
}

} // namespace parley::net
