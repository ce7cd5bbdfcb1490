#include "net/websocket_session.hpp"

#include "actors/connection/connection_actor.hpp"
#include "actors/connection/pushed_frame.hpp"
#include "actors/runtime/atoms.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "net/frame_codec.hpp"
#include "proto/parley.pb.h"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace parley::net {

namespace {

struct ws_metrics {
  metrics::gauge& open = metrics::global().get_gauge("ws_connections", "Open WebSocket connections");
  metrics::counter& accepted = metrics::global().get_counter(
    "ws_connections_total", "WebSocket connections accepted");
  metrics::counter& frames_out = metrics::global().get_counter(
    "ws_frames_out_total", "WebSocket frames written");
  metrics::counter& malformed = metrics::global().get_counter(
    "ws_frames_malformed_total", "WebSocket frames that could not be decoded");
  metrics::counter& overflows = metrics::global().get_counter(
    "ws_outbound_overflows_total", "Connections closed with 1013 past their outbound bound");
  metrics::counter& too_big = metrics::global().get_counter(
    "ws_messages_too_big_total", "Connections closed with 1009 past ws.max_frame_bytes");
};

ws_metrics& instruments() {
  static ws_metrics m;
  return m;
}

} // namespace

int64_t websocket_session::steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

websocket_session::websocket_session(socket_type&& socket, edge_context& ctx,
                                     wire_format preferred, connection_limit::ticket slot)
  : socket_(std::move(socket)), ctx_(ctx), slot_(std::move(slot)),
    reader_(ctx.opts.ws.max_frame_bytes), last_activity_ms_(steady_ms()), preferred_(preferred) {
}

websocket_session::~websocket_session() {
  ctx_.sessions.remove(this);
}

void websocket_session::run(ws::handshake accepted, jwt_claims claims, std::string received) {
  beast::error_code ec;
  socket_.non_blocking(true, ec);  // reads take what is there once the socket is readable
  if (ec)
    return finish(ec, "accept");
  if (accepted.deflate) {
    deflate_ = std::make_unique<ws::deflate_codec>(*accepted.deflate);
    reader_.use_deflate(deflate_.get());
  }
  out_.pending() = std::move(accepted.response);
  flush();
  user_id_ = claims.sub;
  connected_at_ms_ = unix_ms();
  auto endpoint = socket_.remote_endpoint(ec);
  if (!ec)
    remote_ip_ = endpoint.address().to_string();
  ctx_.sessions.add(shared_from_this());
  instruments().open.add(1);
  instruments().accepted.inc();
  connection_info info;
  info.user_id = std::move(claims.sub);
  info.tier = std::move(claims.tier);
  info.ip = remote_ip_;
  info.services = ctx_.shared_by_connections();
  actor_ = spawn_connection(ctx_.sys, std::move(info), shared_from_this());
  if (ctx_.draining.load())
    do_close(ws::close_code::going_away, "server shutting down");
  else if (ctx_.lame_duck.load())  // accepted while a drain began: it would be missed
    do_close(ws::close_code::service_restart, "server draining");
  if (!received.empty() && !take(received.data(), received.size()))
    return;
  wait_readable();
}

// -- reading -------------------------------------------------------------------------------------

void websocket_session::wait_readable() {
  socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
    self->on_readable(ec);
  });
}

void websocket_session::on_readable(beast::error_code ec) {
  if (ec)
    return finish(ec, "read");
  // Read into a buffer of the io thread, not of the connection: an idle connection holds none.
  // What a frame leaves unfinished is kept by the reader.
  constexpr size_t scratch_bytes = 64 << 10;
  static thread_local std::unique_ptr<char[]> scratch{new char[scratch_bytes]};
  // A few reads at most before waiting again, so one busy client cannot hold the thread.
  for (int round = 0; round < 4; ++round) {
    auto n = socket_.read_some(asio::buffer(scratch.get(), scratch_bytes), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again)
      break;
    if (ec)
      return finish(ec, "read");
    if (!take(scratch.get(), n))
      return;
    if (n < scratch_bytes)
      break;
  }
  wait_readable();
}

bool websocket_session::take(char* data, size_t size) {
  if (finished_)
    return false;
  last_activity_ms_.store(steady_ms());
  reader_.feed(data, size, *this);
  if (finished_)
    return false;
  if (reader_.done()) {
    // The client's close frame came (answered), or its frames broke the protocol (our close is
    // queued): nothing more is read.
    finish_when_flushed();
    return false;
  }
  return true;
}

void websocket_session::on_message(std::string_view payload, bool text) {
  if (closing_)
    return;  // closing: nothing new is started for this client
  auto format = text ? wire_format::json : wire_format::binary;
  auto in = std::make_shared<inbound_frame>();
  in->format = format;
  auto err = decode_client_frame(payload, format, *in->frame);
  if (err) {
    instruments().malformed.inc();
    auto bytes = encode_error_frame(err, format);
    if (admit(bytes.size()))
      enqueue(bytes, format == wire_format::binary);
    return;
  }
  caf::anon_send(actor_, frame_atom_v, std::move(in));
}

void websocket_session::on_ping(std::string_view payload) {
  // Any control frame from the client counts as a heartbeat (take() noted the activity).
  if (!closing_)
    write_frame(ws::opcode::pong, payload, 0);
}

void websocket_session::on_close(uint16_t code, std::string_view) {
  if (!closing_) {
    // The client closes first: echo its code (RFC 6455 5.5.1), then the socket goes.
    closing_ = true;
    close_started_ms_.store(steady_ms());
    write_frame(ws::opcode::close,
                code == ws::close_code::none ? std::string{} : ws::close_payload(code, {}), 0);
  }
}

void websocket_session::on_failure(uint16_t code, std::string reason) {
  if (code == ws::close_code::too_big)
    instruments().too_big.inc();
  do_close(code, std::move(reason));
}

// -- writing -------------------------------------------------------------------------------------

void websocket_session::send(const pb::ServerFrame& frame, wire_format format) {
  if (overflowed_.load())
    return;
  queue_bytes(std::make_shared<const std::string>(encode_server_frame(frame, format)), format);
}

void websocket_session::send_shared(const pushed_frame_ptr& frame, wire_format format) {
  if (overflowed_.load())
    return;
  queue_bytes(frame->encoded(format, &encode_server_frame), format);
}

void websocket_session::queue_bytes(std::shared_ptr<const std::string> bytes, wire_format format) {
  if (!admit(bytes->size()))
    return;
  asio::post(socket_.get_executor(), [self = shared_from_this(), bytes = std::move(bytes),
                                      binary = format == wire_format::binary] {
    self->enqueue(*bytes, binary);
  });
}

size_t websocket_session::outbound_room() const {
  auto queued = queued_bytes_.load();
  auto max = ctx_.opts.ws.max_outbound_bytes;
  return overflowed_.load() || queued >= max ? 0 : max - queued;
}

bool websocket_session::admit(std::size_t size) {
  auto total = queued_bytes_.fetch_add(size) + size;
  if (total <= ctx_.opts.ws.max_outbound_bytes)
    return true;
  queued_bytes_.fetch_sub(size);
  // A slow reader never stalls the sender: drop the connection, the client re-syncs.
  if (!overflowed_.exchange(true)) {
    instruments().overflows.inc();
    close(ws::close_code::try_again_later, "outbound queue full");
  }
  return false;
}

void websocket_session::enqueue(std::string_view payload, bool binary) {
  if (closing_ || finished_) {
    queued_bytes_.fetch_sub(payload.size());
    return;
  }
  write_frame(binary ? ws::opcode::binary : ws::opcode::text, payload, payload.size());
  instruments().frames_out.inc();
}

void websocket_session::write_frame(ws::opcode op, std::string_view payload, size_t counted) {
  if (deflate_ && (op == ws::opcode::text || op == ws::opcode::binary)) {
    std::string compressed;
    deflate_->compress(payload, compressed);
    ws::append_frame(out_.pending(), op, compressed, true);
  } else {
    ws::append_frame(out_.pending(), op, payload);
  }
  out_.counted(counted);
  if (!out_.writing())
    flush();
}

void websocket_session::flush() {
  static auto& writes = metrics::global().get_counter(
    "ws_socket_writes_total", "Socket writes of WebSocket bytes (one carries every frame queued meanwhile)");
  writes.inc();
  asio::async_write(socket_, asio::buffer(out_.start_write()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->on_written(ec);
                    });
}

void websocket_session::on_written(beast::error_code ec) {
  // A frame counts against the outbound bound until its bytes are on the wire.
  queued_bytes_.fetch_sub(out_.written());
  if (ec) {
    queued_bytes_.fetch_sub(out_.drop_pending());
    return finish(ec, "write");
  }
  if (finished_)
    return;
  if (!out_.idle())
    return flush();
  if (finish_when_flushed_)
    return finish(beast::error_code{}, "close");
  if (out_.holds_memory())
    write_buffers_held_.store(true);
}

void websocket_session::trim_write_buffers() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->out_.trim();
    self->write_buffers_held_.store(self->out_.holds_memory());
  });
}

// -- closing -------------------------------------------------------------------------------------

void websocket_session::force_close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->finish(beast::error_code{}, "close timeout");
  });
}

void websocket_session::close(uint16_t code, std::string reason) {
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
               self->do_close(code, std::move(reason));
             });
}

void websocket_session::do_close(uint16_t code, std::string reason) {
  if (closing_ || finished_)
    return;
  closing_ = true;
  close_started_ms_.store(steady_ms());
  // What the client still sends is read and dropped (not left unread, which would reset the
  // connection) until its close frame comes or the reaper gives up.
  reader_.skip_messages();
  write_frame(ws::opcode::close, ws::close_payload(code, reason), 0);
}

void websocket_session::finish_when_flushed() {
  if (out_.idle())
    return finish(beast::error_code{}, "close");
  finish_when_flushed_ = true;
}

void websocket_session::finish(beast::error_code ec, const char* what) {
  if (finished_)
    return;
  finished_ = true;
  if (ec && ec != asio::error::operation_aborted && ec != asio::error::eof
      && ec != asio::error::connection_reset && ec != asio::error::broken_pipe)
    spdlog::debug("ws {}: {}", what, ec.message());
  if (actor_) {
    instruments().open.sub(1);
    caf::anon_send(actor_, closed_atom_v);
    actor_ = nullptr;
  }
  ctx_.sessions.remove(this);
  queued_bytes_.fetch_sub(out_.drop_pending());
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  slot_ = {};
}

void websocket_session::abandon() {
  if (actor_) {
    instruments().open.sub(1);
    caf::anon_send(actor_, closed_atom_v);
    actor_ = nullptr;
  }
}

void session_tracker::add(const std::shared_ptr<websocket_session>& s) {
  std::lock_guard<std::mutex> guard{mtx_};
  sessions_.emplace(s.get(), s);
}

void session_tracker::remove(const websocket_session* s) {
  std::lock_guard<std::mutex> guard{mtx_};
  sessions_.erase(s);
}

size_t session_tracker::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return sessions_.size();
}

} // namespace parley::net
