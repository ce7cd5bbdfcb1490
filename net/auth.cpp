#include "net/auth.hpp"

#include "common/clock.hpp"
#include "common/sharded_map.hpp"
#include "net/deny_list.hpp"

#include <chrono>

namespace parley::net {

namespace {

// Tokens verified before, until they expire: a client sends the same token with every request,
// and verifying it (HMAC, base64, two JSON documents) costs more than most handlers. Keyed by
// the token text; the secret is part of the entry so nodes with other secrets in one process
// (tests) never share a verdict. Bounded: a full shard is emptied.
class verified_tokens {
public:
  bool find(const std::string& token, const std::string& secret, int64_t now, jwt_claims& out) {
    return tokens_.with(token, [&](auto& s) {
      auto it = s.map.find(token);
      if (it == s.map.end() || it->second.secret != secret || it->second.claims.exp <= now)
        return false;
      out = it->second.claims;
      return true;
    });
  }

  void add(const std::string& token, const std::string& secret, const jwt_claims& claims) {
    tokens_.with(token, [&](auto& s) {
      if (s.map.size() >= per_shard)
        s.map.clear();
      s.map[token] = entry{secret, claims};
    });
  }

private:
  static constexpr size_t per_shard = 4096;
  struct entry {
    std::string secret;
    jwt_claims claims;
  };
  sharded_map<std::string, entry> tokens_{16};
};

verified_tokens& token_cache() {
  static verified_tokens cache;
  return cache;
}

} // namespace

std::string bearer_token(const http_request& req, bool allow_query) {
  auto& h = req.header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (h.size() > scheme.size() && h.compare(0, scheme.size(), scheme) == 0)
    return h.substr(scheme.size());
  if (allow_query)
    return req.query_param("token");
  return {};
}

fault authenticate(const http_request& req, const auth_options& auth, bool allow_query,
                   jwt_claims& out) {
  auto& secret = auth.jwt_secret;
  auto token = bearer_token(req, allow_query);
  if (token.empty())
    return make_fault(errc::unauthorized, "missing bearer token");
  auto now = unix_now();
  auto leeway = static_cast<int64_t>(auth.clock_skew.count());
  bool cached = !allow_query;  // see auth.hpp
  if (!cached || !token_cache().find(token, secret, now - leeway, out)) {
    if (auto err = jwt_verify(token, secret, now, leeway, out))
      return err;
    if (cached)
      token_cache().add(token, secret, out);
  }
  if (auth.denied && auth.denied->denied(out.sub, unix_ms()))
    return make_fault(errc::forbidden, "user " + out.sub + " is banned");
  return {};
}

bool authenticate_or_answer(const http_request& req, const auth_options& auth, jwt_claims& out,
                            const responder& respond) {
  if (auto err = authenticate(req, auth, false, out)) {
    respond(http_response::error(err));
    return false;
  }
  return true;
}

int64_t unix_now() {
  return unix_ms() / 1000;
}

} // namespace parley::net
