// One WebSocket connection: reads frames, decodes them and hands them to the connection actor;
// writes what the actor sends back, on the session's strand, through a bounded outbound queue
// (frames queued while a write is on the wire go out together: net/ws_outbox.hpp). It holds no
// domain state. The framing is net/ws_frame.hpp. Kept lean for memory: no per-session timer (the
// server's reaper closes idle sessions), and while idle no buffer and no read operation, only a
// wait for the socket to turn readable (docs/benchmarks.md, memory per idle WebSocket).
#pragma once

#include "actors/connection/outbound_sink.hpp"
#include "net/beast.hpp"
#include "net/edge_context.hpp"
#include "net/jwt.hpp"
#include "net/ws_deflate.hpp"
#include "net/ws_frame.hpp"
#include "net/ws_handshake.hpp"
#include "net/ws_outbox.hpp"

#include <caf/actor.hpp>

#include <atomic>
#include <memory>
#include <vector>

namespace parley::net {

class websocket_session : public std::enable_shared_from_this<websocket_session>,
                          public outbound_sink,
                          private ws::reader_events {
public:
  // -- member types --------------------------------------------------------------------------

  // The socket typed by its strand, as the HTTP session that hands it over (Asio's type-erased
  // executor would cost ~190 bytes per connection).
  using strand = asio::strand<asio::io_context::executor_type>;
  using socket_type = asio::basic_stream_socket<tcp, strand>;

  // -- constructors --------------------------------------------------------------------------

  websocket_session(socket_type&& socket, edge_context& ctx, wire_format preferred,
                    connection_limit::ticket slot);
  ~websocket_session() override;

  // On the strand: writes the 101 of `accepted`, starts the connection actor for `claims` and
  // reads, beginning with `received` (bytes the client sent after its upgrade request).
  void run(ws::handshake accepted, jwt_claims claims, std::string received);

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

  // A busy connection keeps its write buffers between batches; the server's reaper gives them
  // back once a second for connections whose queue ran empty. Any thread.
  bool holds_idle_write_buffers() const { return write_buffers_held_.load(); }
  void trim_write_buffers();

  // Who and where, for the admin console; set before the session is listed in the tracker.
  const std::string& user_id() const { return user_id_; }
  const std::string& remote_ip() const { return remote_ip_; }
  int64_t connected_at_ms() const { return connected_at_ms_; }  // unix ms

private:
  // -- ws::reader_events (strand) ------------------------------------------------------------

  void on_message(std::string_view payload, bool text) override;
  void on_ping(std::string_view payload) override;
  void on_close(uint16_t code, std::string_view reason) override;
  void on_failure(uint16_t code, std::string reason) override;

  // -- reading (strand) ----------------------------------------------------------------------

  void wait_readable();
  void on_readable(beast::error_code ec);
  // Feeds what was read to the frame reader; false once the session stops reading.
  bool take(char* data, size_t size);

  // -- writing ---------------------------------------------------------------------------------

  // Counts `size` bytes against ws.max_outbound_bytes; past it, closes with 1013 (once) and
  // answers false. Any thread.
  bool admit(std::size_t size);
  // Admits and queues encoded bytes from any thread (posted to the strand).
  void queue_bytes(std::shared_ptr<const std::string> bytes, wire_format format);
  // Strand: an admitted data frame of `size` counted bytes, unless closing.
  void enqueue(std::string_view payload, bool binary);
  void write_frame(ws::opcode op, std::string_view payload, size_t counted);
  void flush();
  void on_written(beast::error_code ec);

  // -- closing (strand) ------------------------------------------------------------------------

  void do_close(uint16_t code, std::string reason);
  // The close handshake is over (or the protocol broke): the socket closes once what is queued
  // is on the wire.
  void finish_when_flushed();
  void finish(beast::error_code ec, const char* what);

  socket_type socket_;
  edge_context& ctx_;
  connection_limit::ticket slot_;  // until the socket closes, not until the session is freed
  caf::actor actor_;
  ws::frame_reader reader_;
  ws::outbox out_;                             // strand only
  std::unique_ptr<ws::deflate_codec> deflate_;  // permessage-deflate, when negotiated
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<int64_t> last_activity_ms_;
  std::atomic<bool> overflowed_{false};
  std::atomic<bool> write_buffers_held_{false};
  std::atomic<int64_t> close_started_ms_{-1};
  wire_format preferred_;
  std::string user_id_;
  std::string remote_ip_;
  int64_t connected_at_ms_ = 0;
  bool closing_ = false;             // strand only: our close frame is queued
  bool finish_when_flushed_ = false;  // strand only
  bool finished_ = false;            // strand only
};

} // namespace parley::net
