// One WebSocket connection: reads frames, decodes them and hands them to the connection actor;
// writes what the actor sends back, on the session's strand, through a bounded outbound queue
// (frames queued while a write is on the wire go out together: net/coalescing_socket.hpp).
// It holds no domain state. Kept lean for memory: plain tcp::socket, no per-session timer (the
// server's reaper closes idle sessions), no heap read buffer while idle.
#pragma once

#include "actors/connection/outbound_sink.hpp"
#include "net/beast.hpp"
#include "net/coalescing_socket.hpp"
#include "net/edge_context.hpp"
#include "net/jwt.hpp"

#include <caf/actor.hpp>

#include <atomic>
#include <memory>
#include <vector>

namespace parley::net {

class websocket_session : public std::enable_shared_from_this<websocket_session>,
                          public outbound_sink {
public:
  // -- constructors --------------------------------------------------------------------------

  websocket_session(tcp::socket&& socket, edge_context& ctx, wire_format preferred,
                    connection_limit::ticket slot);
  ~websocket_session() override;

  // Completes the upgrade of `req` and starts the connection actor for `claims`.
  void run(http::request<http::string_body> req, jwt_claims claims);

  // -- outbound_sink (any thread) ------------------------------------------------------------

  void send(const pb::ServerFrame& frame, wire_format format) override;
  void send_shared(const std::shared_ptr<const pushed_frame>& frame, wire_format format) override;
  void close(uint16_t code, std::string reason) override;
  wire_format preferred_format() const override { return preferred_; }
  size_t outbound_room() const override;

  // Only once no io thread runs: tells the connection actor the socket is gone.
  void abandon();

  // -- observers -----------------------------------------------------------------------------

  // Milliseconds since the client last sent anything (data or control frame).
  int64_t idle_ms(int64_t now_ms) const { return now_ms - last_activity_ms_.load(); }

  // Milliseconds since this side started closing, or -1 when it has not.
  int64_t closing_ms(int64_t now_ms) const {
    auto started = close_started_ms_.load();
    return started < 0 ? -1 : now_ms - started;
  }

  // Drops the socket without a close handshake: for a peer that does not read (a pending write
  // would otherwise keep the close from ever starting). Any thread.
  void force_close();

  static int64_t steady_ms();

  // Who and where, for the admin console; set before the session is listed in the tracker.
  const std::string& user_id() const { return user_id_; }
  const std::string& remote_ip() const { return remote_ip_; }
  int64_t connected_at_ms() const { return connected_at_ms_; }  // unix ms

private:
  struct outgoing {
    std::shared_ptr<const std::string> bytes;
    bool binary;
  };

  void on_accept(beast::error_code ec, jwt_claims claims);
  void do_read();
  void on_chunk(beast::error_code ec, std::size_t n, bool into_message);
  void handle_message(std::string_view payload);
  // Counts `size` bytes against ws.max_outbound_bytes; past it, closes with 1013 (once) and
  // answers false.
  bool admit(std::size_t size);
  // Admits and queues encoded bytes from any thread (posted to the strand).
  void queue_bytes(std::shared_ptr<const std::string> bytes, wire_format format);
  void enqueue(outgoing out);
  void do_write();
  void on_write(beast::error_code ec, std::size_t n);
  // Releases the outbound bound of frames whose bytes the socket has written.
  void on_flushed();
  void do_close(uint16_t code, std::string reason);
  void finish(beast::error_code ec, const char* what);

  // Reads go into a small inline buffer first: a pending read with a flat_buffer would hold a
  // 1.5 KiB heap block per idle connection (heaptrack, docs/benchmarks.md). Longer messages
  // continue into message_, which is freed after each message.
  static constexpr std::size_t inline_read_bytes = 128;
  static constexpr std::size_t chunk_bytes = 4096;
  websocket::stream<coalescing_socket> ws_;  // frames queued meanwhile share one socket write
  std::string message_;
  edge_context& ctx_;
  connection_limit::ticket slot_;  // until the socket closes, not until the session is freed
  caf::actor actor_;
  std::vector<outgoing> queue_;  // strand only; front is being written
  // Frames handed to the socket and not yet on the wire: where their bytes end in its stream.
  struct in_socket_frame {
    uint64_t end;
    size_t payload_bytes;
  };
  std::vector<in_socket_frame> in_socket_;  // strand only
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<int64_t> last_activity_ms_;
  std::atomic<bool> overflowed_{false};
  std::atomic<int64_t> close_started_ms_{-1};
  wire_format preferred_;
  std::string user_id_;
  std::string remote_ip_;
  int64_t connected_at_ms_ = 0;
  bool closing_ = false;   // strand only
  bool finished_ = false;  // strand only
  char inline_[inline_read_bytes];
};

} // namespace parley::net
