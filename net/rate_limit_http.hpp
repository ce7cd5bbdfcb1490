// The rate limiter at the HTTP edge (PROTOCOL.md, Rate limiting): checks a request against the
// rules in force before routing, answers 429 itself, and puts the X-RateLimit-* and draft-11
// RateLimit-Policy / RateLimit headers on every response a rule matched.
#pragma once

#include "actors/limits/limiter.hpp"
#include "net/http_types.hpp"

namespace parley::net {

struct edge_context;

// Runs the HTTP rules for `req`. Returns false after answering 429 through `respond`; else
// `respond` is replaced by one that adds the headers (when a rule matched) and true returned.
// `allow_query`: the token may come as ?token= (WebSocket upgrades from browsers).
bool admit_http(edge_context& ctx, const http_request& req, responder& respond,
                bool allow_query = false);

// The rate-limit headers of `d` at `now_ms` (unix ms), appended to `res`.
void add_rate_limit_headers(http_response& res, const limits::decision& d, int64_t now_ms);

// 429 with Retry-After and the rate_limited error body carrying retry_after_ms.
http_response rate_limited(const limits::decision& d, int64_t now_ms);

} // namespace parley::net
