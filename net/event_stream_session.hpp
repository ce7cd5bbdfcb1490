// One Server-Sent Events stream (text/event-stream): the connection of a request whose handler
// answered http_response::events(), handed over by its http_session after the request. It asks
// its source for new events every interval and writes them; it never reads requests again.
// Bounded: one write on the wire at a time (events wait in the source, not here), a reader that
// has not taken a write for stall_limit is dropped, and the stream ends with an `end` event when
// its listener drains (SIGTERM, or a lame-duck `node drain` of the public listener).
#pragma once

#include "net/beast.hpp"
#include "net/edge_context.hpp"
#include "net/http_types.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace parley::net {

class event_stream_session : public std::enable_shared_from_this<event_stream_session> {
public:
  // -- constants -----------------------------------------------------------------------------

  // A write that has not completed after this long: the reader is gone or stopped reading.
  static constexpr std::chrono::seconds stall_limit{10};
  // A comment line after this long without events, so proxies and dead peers are noticed.
  static constexpr std::chrono::seconds keepalive{15};
  // Tells EventSource clients how long to wait before reconnecting, in ms.
  static constexpr int retry_ms = 2000;

  // -- constructors --------------------------------------------------------------------------

  // `slot` counts the connection against server.max_connections_per_ip while it is open.
  event_stream_session(tcp::socket&& socket, edge_context& ctx, event_stream spec,
                       connection_limit::ticket slot);
  ~event_stream_session();

  // Writes `head` (the response's status line and headers), then the backlog, then new events.
  void run(std::string head);

  // One event in the text/event-stream format.
  static std::string format(const stream_event& e);

private:
  void tick();
  void write(std::string text);
  void on_write(beast::error_code ec);
  void watch_peer();
  void finish(const std::string& reason);
  void close();

  tcp::socket socket_;
  edge_context& ctx_;
  event_stream spec_;
  connection_limit::ticket slot_;
  asio::steady_timer timer_;
  std::string head_;           // the response head, until the first write
  std::string out_;            // the write on the wire
  bool writing_ = false;
  bool ending_ = false;        // the last write is on its way; close after it
  bool closed_ = false;
  std::chrono::steady_clock::time_point write_started_;
  std::chrono::steady_clock::time_point last_sent_;
  char peer_byte_[64];         // what a client sends on a stream is read and dropped
};

} // namespace parley::net
