// The rate limiter at the HTTP edge (PROTOCOL.md, Rate limiting): checks a request against the
// rules in force before routing, answers 429 itself, and puts the X-RateLimit-* and draft-11
// RateLimit-Policy / RateLimit headers on every response a rule matched.
#pragma once

#include "actors/limits/limiter.hpp"
#include "net/http_types.hpp"

#include <caf/timespan.hpp>

#include <functional>

namespace parley::net {

struct edge_context;

// Goes on with an admitted request, given the responder that adds the rate-limit headers.
using resume_fn = std::function<void(responder)>;

// Runs the HTTP rules for `req`. Returns false after answering 429 through `respond`; else
// `respond` is replaced by one that adds the headers (when a rule matched) and true returned.
// `allow_query`: the token may come as ?token= (WebSocket upgrades from browsers).
// In a cluster a rule of scope "cluster" whose key another node owns is decided there: then
// admit_http calls `later()` (which may take the request's data: `req` is not read again),
// returns false, and once the owners answered either answers 429 or runs the resume function
// with the header-adding responder, on an actor thread. Without `later` such rules are left to
// their on_error.
bool admit_http(edge_context& ctx, const http_request& req, responder& respond,
                bool allow_query = false, const std::function<resume_fn()>& later = {});

// Asks the owners of d.remote (one hop each, all at once, within `within`) and calls `done`
// with their verdicts folded into `d`; an owner that cannot be reached or does not answer in
// time leaves its rule's on_error to decide. On an actor thread.
void decide_remote(edge_context& ctx, limits::decision d, caf::timespan within,
                   std::function<void(limits::decision)> done);

// The rate-limit headers of `d` at `now_ms` (unix ms), appended to `res`.
void add_rate_limit_headers(http_response& res, const limits::decision& d, int64_t now_ms);

// 429 with Retry-After and the rate_limited error body carrying retry_after_ms.
http_response rate_limited(const limits::decision& d, int64_t now_ms);

} // namespace parley::net
