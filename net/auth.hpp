// Authentication of a request: the bearer token from `Authorization` (or `?token=` on the
// WebSocket URL, for browsers) verified as an HS256 JWT.
#pragma once

#include "net/edge_options.hpp"
#include "net/http_types.hpp"
#include "net/jwt.hpp"

namespace parley::net {

// The token of a request, empty when none was given.
std::string bearer_token(const http_request& req, bool allow_query);

fault authenticate(const http_request& req, const auth_options& auth, bool allow_query,
                   jwt_claims& out);

// Authenticates `req` by its bearer token; on failure answers it (401) and returns false.
bool authenticate_or_answer(const http_request& req, const auth_options& auth, jwt_claims& out,
                            const responder& respond);

int64_t unix_now();

} // namespace parley::net
