#include "net/auth.hpp"

#include <chrono>

namespace parley::net {

std::string bearer_token(const http_request& req, bool allow_query) {
  auto& h = req.header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (h.size() > scheme.size() && h.compare(0, scheme.size(), scheme) == 0)
    return h.substr(scheme.size());
  if (allow_query)
    return req.query_param("token");
  return {};
}

fault authenticate(const http_request& req, const std::string& secret, bool allow_query,
                   jwt_claims& out) {
  auto token = bearer_token(req, allow_query);
  if (token.empty())
    return make_fault(errc::unauthorized, "missing bearer token");
  return jwt_verify(token, secret, unix_now(), out);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace parley::net
