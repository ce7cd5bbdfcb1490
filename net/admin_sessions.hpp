// The admin console's view of this node's WebSocket sessions: listing them with their session
// ids (from the chat routing table) and closing them (kick, ban, drain).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::net {

struct edge_context;

struct session_row {
  std::string session_id;  // as in `welcome`; empty until the connection actor registered it
  std::string user_id;
  std::string device_id;
  std::string ip;
  int64_t connected_at_ms = 0;  // unix ms
};

// Live sessions, all or only `user`'s (empty: all), at most `limit`, oldest first.
std::vector<session_row> list_sessions(edge_context& ctx, const std::string& user, size_t limit);

// Close codes of the admin console (4000-4999 is the application's range, RFC 6455 7.4.2).
constexpr uint16_t close_kicked = 4000;
// A banned user's sessions close with 1008 (policy violation).
constexpr uint16_t close_banned = 1008;

// Closes the session `session_id` (any user) or every session of `user`, with `code` and
// `reason` (cut to the 123 bytes a close frame holds); how many were closed.
size_t close_sessions(edge_context& ctx, const std::string& session_id, const std::string& user,
                      uint16_t code, const std::string& reason);

} // namespace parley::net
