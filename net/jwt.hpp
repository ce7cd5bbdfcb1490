// HS256 JSON Web Tokens: signing (dev tokens, tests) and verification (every authenticated
// request). Verification checks the algorithm header, the HMAC in constant time, `exp` against
// the clock and that `sub` is a valid user id.
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
  std::string role;  // "admin" or empty
  std::string tier;  // rate-limit tier or empty
};

std::string jwt_sign(const jwt_claims& claims, std::string_view secret);

// On success returns no fault and fills `out`; otherwise `unauthorized` with the reason.
fault jwt_verify(std::string_view token, std::string_view secret, int64_t now_unix,
                 jwt_claims& out);

// Base64url without padding (RFC 7515), exposed for tests.
std::string base64url_encode(std::string_view in);
bool base64url_decode(std::string_view in, std::string& out);

} // namespace parley::net
