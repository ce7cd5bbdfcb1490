// HS256 JSON Web Tokens: signing (dev tokens, tests) and verification (every authenticated
// request). Verification checks the algorithm header, the HMAC in constant time, `exp` and `nbf`
// (numeric dates) against the clock and that `sub` is a valid user id.
#pragma once

#include "common/errc.hpp"
#include "common/identifiers.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::net {

struct jwt_claims {
  std::string sub;
  int64_t exp = 0;  // unix seconds
  int64_t iat = 0;
  int64_t nbf = 0;  // unix seconds; 0: none
  std::string role;  // "admin", "worker" or empty
  std::string tier;  // rate-limit tier or empty
};

std::string jwt_sign(const jwt_claims& claims, std::string_view secret);

// On success returns no fault and fills `out`; otherwise `unauthorized` with the reason. `exp`
// and `nbf` are checked with `leeway_sec` of tolerance for clocks that disagree.
fault jwt_verify(std::string_view token, std::string_view secret, int64_t now_unix,
                 int64_t leeway_sec, jwt_claims& out);

// HMAC-SHA256 of `data` (the raw 32 bytes), exposed for tests that sign by hand.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Base64url without padding (RFC 7515), exposed for tests.
std::string base64url_encode(std::string_view in);
bool base64url_decode(std::string_view in, std::string& out);

} // namespace parley::net
