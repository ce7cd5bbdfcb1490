#include "net/admin_sessions.hpp"

#include "net/edge_context.hpp"
#include "net/websocket_session.hpp"

#include <algorithm>

namespace parley::net {

namespace {

// The routing table's entry of `s`: its session and device ids (the connection actor chose them).
const chat::route* route_of(const std::vector<chat::route>& routes, websocket_session& s) {
  auto* sink = static_cast<outbound_sink*>(&s);
  for (auto& r : routes)
    if (r.sink.lock().get() == sink)
      return &r;
  return nullptr;
}

// A close reason is at most 123 bytes (RFC 6455 5.5: 125 with the code); cut at a UTF-8
// character boundary.
std::string close_reason(const std::string& reason) {
  if (reason.size() <= 123)
    return reason;
  size_t end = 123;
  while (end > 0 && (static_cast<unsigned char>(reason[end]) & 0xC0) == 0x80)
    --end;
  return reason.substr(0, end);
}

} // namespace

std::vector<session_row> list_sessions(edge_context& ctx, const std::string& user, size_t limit) {
  std::vector<session_row> rows;
  ctx.sessions.for_each([&](websocket_session& s) {
    if (!user.empty() && s.user_id() != user)
      return;
    session_row row;
    row.user_id = s.user_id();
    row.ip = s.remote_ip();
    row.connected_at_ms = s.connected_at_ms();
    if (ctx.chat) {
      auto routes = ctx.chat->routes.routes_of(s.user_id());
      if (auto* r = route_of(routes, s)) {
        row.session_id = r->session_id;
        row.device_id = r->device_id;
      }
    }
    rows.push_back(std::move(row));
  });
  std::sort(rows.begin(), rows.end(), [](const session_row& a, const session_row& b) {
    return a.connected_at_ms != b.connected_at_ms ? a.connected_at_ms < b.connected_at_ms
                                                  : a.session_id < b.session_id;
  });
  if (rows.size() > limit)
    rows.resize(limit);
  return rows;
}

size_t close_sessions(edge_context& ctx, const std::string& session_id, const std::string& user,
                      uint16_t code, const std::string& reason) {
  size_t closed = 0;
  auto why = close_reason(reason);
  ctx.sessions.for_each([&](websocket_session& s) {
    if (!user.empty() && s.user_id() != user)
      return;
    if (!session_id.empty()) {
      if (!ctx.chat)
        return;
      auto routes = ctx.chat->routes.routes_of(s.user_id());
      auto* r = route_of(routes, s);
      if (r == nullptr || r->session_id != session_id)
        return;
    }
    s.close(code, why);
    ++closed;
  });
  return closed;
}

} // namespace parley::net
