#include "net/rate_limit_http.hpp"

#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/json_codec.hpp"
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

bool admit_http(edge_context& ctx, const http_request& req, responder& respond,
                bool allow_query) {
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
  if (!d.matched)
    return true;
  auto now = limiter->now_ms();
  if (!d.allowed) {
    respond(rate_limited(d, now));
    return false;
  }
  respond = [inner = std::move(respond), d, now](http_response res) {
    // The check API describes its own rule: one set of headers per response.
    bool described = false;
    for (auto& [name, value] : res.headers)
      described = described || name == "X-RateLimit-Limit";
    if (!described)
      add_rate_limit_headers(res, d, now);
    inner(std::move(res));
  };
  return true;
}

} // namespace parley::net
