// A token from a node with auth.dev_tokens = true, for parley-worker --dev-user and the load
// generators in bench/.
#pragma once

#include "common/json_text.hpp"
#include "net/client/http_client.hpp"
#include "tools/json_scan.hpp"

#include <string>
#include <string_view>

namespace parley::tools {

// POST /api/v1/dev/token {"user_id": user_id}. Returns the token, or empty with `error` set.
inline std::string fetch_dev_token(net::client::http_client& client, std::string_view user_id,
                                   std::string& error) {
  auto res = client.post("/api/v1/dev/token", "{\"user_id\":" + json_quote(user_id) + "}");
  if (!res.success()) {
    error = "POST /api/v1/dev/token: " + res.describe() +
            (res.status == 404 ? " (is auth.dev_tokens on?)" : "");
    return {};
  }
  auto token = json_string(res.body, "token");
  if (token.empty())
    error = "POST /api/v1/dev/token: no token in " + res.body;
  return token;
}

} // namespace parley::tools
