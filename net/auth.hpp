// Authentication of a request: the bearer token from `Authorization` (or `?token=` on the
// WebSocket URL, for browsers) verified as an HS256 JWT.
#pragma once

#include "net/edge_options.hpp"
#include "net/http_types.hpp"
#include "net/jwt.hpp"

namespace parley::net {

// The token of a request, empty when none was given.
std::string bearer_token(const http_request& req, bool allow_query);

// Verifies the request's token into `out`. Tokens sent with every request are cached once
// verified, until they expire. `allow_query` is for requests that open a long-lived connection
// (a WebSocket upgrade, an EventSource stream): their token may come as `?token=` (browsers
// cannot set the header there), and it is verified each time, not cached: it is presented once
// per connection, and a cache entry per connected user (~370 bytes) would cost more memory per
// idle connection (docs/benchmarks.md) than the verification it saves on a reconnect.
fault authenticate(const http_request& req, const auth_options& auth, bool allow_query,
                   jwt_claims& out);

// Authenticates `req` by its bearer token; on failure answers it (401) and returns false.
bool authenticate_or_answer(const http_request& req, const auth_options& auth, jwt_claims& out,
                            const responder& respond);

int64_t unix_now();

} // namespace parley::net
