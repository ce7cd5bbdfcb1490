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

websocket_session::websocket_session(tcp::socket&& socket, edge_context& ctx,
                                     wire_format preferred, connection_limit::ticket slot)
  : ws_(std::move(socket)), ctx_(ctx), slot_(std::move(slot)), last_activity_ms_(steady_ms()),
    preferred_(preferred) {
}

websocket_session::~websocket_session() {
  ctx_.sessions.remove(this);
}

void websocket_session::run(http::request<http::string_body> req, jwt_claims claims) {
  ws_.next_layer().keep_alive(shared_from_this());
  ws_.next_layer().on_flush([this] { on_flushed(); });
  // ws.max_frame_bytes is enforced in on_chunk, not by Beast: Beast's own failure path closes
  // the socket after one read of the unread rest, the reset destroys the close frame and
  // clients see 1006 instead of 1009 (measured with npm `ws` at 1 and 16 MB).
  ws_.read_message_max(0);
  ws_.auto_fragment(false);
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds{10};
  timeouts.idle_timeout = websocket::stream_base::none();  // the server's reaper does this
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  if (ctx_.opts.ws.permessage_deflate) {
    // Negotiated only with clients that offer it; the others get plain frames.
    websocket::permessage_deflate pmd;
    pmd.server_enable = true;
    pmd.server_max_window_bits = ctx_.opts.ws.deflate_window_bits;
    pmd.memLevel = ctx_.opts.ws.deflate_mem_level;
    ws_.set_option(pmd);
  }
  // Any control frame from the client (ping, pong) counts as a heartbeat.
  ws_.control_callback([this](websocket::frame_type, beast::string_view) {
    last_activity_ms_.store(steady_ms());
  });
  ws_.async_accept(req, [self = shared_from_this(), claims = std::move(claims)](
                          beast::error_code ec) mutable { self->on_accept(ec, std::move(claims)); });
}

void websocket_session::on_accept(beast::error_code ec, jwt_claims claims) {
  if (ec)
    return finish(ec, "accept");
  user_id_ = claims.sub;
  connected_at_ms_ = unix_ms();
  beast::error_code no_peer;
  auto endpoint = ws_.next_layer().next_layer().remote_endpoint(no_peer);
  if (!no_peer)
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
    do_close(static_cast<uint16_t>(websocket::close_code::going_away), "server shutting down");
  else if (ctx_.lame_duck.load())  // accepted while a drain began: it would be missed
    do_close(static_cast<uint16_t>(websocket::close_code::service_restart), "server draining");
  do_read();
}

void websocket_session::do_read() {
  ws_.async_read_some(asio::buffer(inline_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                        self->on_chunk(ec, n, false);
                      });
}

void websocket_session::on_chunk(beast::error_code ec, std::size_t n, bool into_message) {
  if (ec)
    return finish(ec, "read");
  last_activity_ms_.store(steady_ms());
  if (closing_) {
    // Our close frame is out: what the client still sends is read and dropped (not left unread,
    // which would reset the connection) until its close frame comes or the reaper gives up.
    message_.clear();
    message_.shrink_to_fit();
    return do_read();
  }
  if (into_message) {
    message_.resize(message_.size() - chunk_bytes + n);
  } else if (ws_.is_message_done() && message_.empty()) {
    // The common case: a small message that fit the inline buffer; no allocation at all.
    handle_message(std::string_view{inline_, n});
    return do_read();
  } else {
    message_.append(inline_, n);
  }
  if (message_.size() > ctx_.opts.ws.max_frame_bytes) {
    instruments().too_big.inc();
    message_.clear();
    message_.shrink_to_fit();
    do_close(static_cast<uint16_t>(websocket::close_code::too_big),
             "message larger than " + std::to_string(ctx_.opts.ws.max_frame_bytes) + " bytes");
    return do_read();
  }
  if (!ws_.is_message_done()) {
    auto old = message_.size();
    message_.resize(old + chunk_bytes);
    ws_.async_read_some(asio::buffer(&message_[old], chunk_bytes),
                        [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                          self->on_chunk(ec, n, true);
                        });
    return;
  }
  handle_message(message_);
  message_.clear();
  message_.shrink_to_fit();
  do_read();
}

void websocket_session::handle_message(std::string_view payload) {
  if (closing_)
    return;  // closing: nothing new is started for this client
  auto format = ws_.got_text() ? wire_format::json : wire_format::binary;
  auto in = std::make_shared<inbound_frame>();
  in->format = format;
  auto err = decode_client_frame(payload, format, *in->frame);
  if (err) {
    instruments().malformed.inc();
    auto bytes = std::make_shared<const std::string>(encode_error_frame(err, format));
    if (admit(bytes->size()))
      enqueue(outgoing{std::move(bytes), format == wire_format::binary});
    return;
  }
  caf::anon_send(actor_, frame_atom_v, std::move(in));
}

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
  asio::post(ws_.get_executor(),
             [self = shared_from_this(), out = outgoing{std::move(bytes),
                                                        format == wire_format::binary}]() mutable {
               self->enqueue(std::move(out));
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
    close(static_cast<uint16_t>(websocket::close_code::try_again_later), "outbound queue full");
  }
  return false;
}

void websocket_session::force_close() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    self->finish(beast::error_code{}, "close timeout");
  });
}

void websocket_session::close(uint16_t code, std::string reason) {
  asio::post(ws_.get_executor(),
             [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
               self->do_close(code, std::move(reason));
             });
}

void websocket_session::enqueue(outgoing out) {
  if (closing_ || finished_) {
    queued_bytes_.fetch_sub(out.bytes->size());
    return;
  }
  queue_.push_back(std::move(out));
  if (queue_.size() == 1)
    do_write();
}

void websocket_session::do_write() {
  auto& front = queue_.front();
  ws_.binary(front.binary);
  ws_.async_write(asio::buffer(*front.bytes),
                  [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                    self->on_write(ec, n);
                  });
}

void websocket_session::on_write(beast::error_code ec, std::size_t) {
  // The socket took the frame; it counts against the outbound bound until it is on the wire.
  in_socket_.push_back({ws_.next_layer().accepted(), queue_.front().bytes->size()});
  queue_.erase(queue_.begin());
  on_flushed();
  if (ec)
    return finish(ec, "write");
  instruments().frames_out.inc();
  if (closing_) {
    for (auto& q : queue_)
      queued_bytes_.fetch_sub(q.bytes->size());
    queue_.clear();
    return;
  }
  if (!queue_.empty())
    do_write();
  else
    queue_.shrink_to_fit();
}

void websocket_session::on_flushed() {
  auto flushed = ws_.next_layer().flushed();
  size_t done = 0;
  while (done < in_socket_.size() && in_socket_[done].end <= flushed)
    queued_bytes_.fetch_sub(in_socket_[done++].payload_bytes);
  in_socket_.erase(in_socket_.begin(), in_socket_.begin() + static_cast<std::ptrdiff_t>(done));
  if (in_socket_.empty())
    in_socket_.shrink_to_fit();
}

void websocket_session::do_close(uint16_t code, std::string reason) {
  if (closing_ || finished_)
    return;
  closing_ = true;
  close_started_ms_.store(steady_ms());
  // Frames not yet started are dropped; one being written finishes first (Beast allows a
  // close to run while a write is pending).
  if (queue_.size() > 1) {
    for (size_t i = 1; i < queue_.size(); ++i)
      queued_bytes_.fetch_sub(queue_[i].bytes->size());
    queue_.resize(1);
  }
  websocket::close_reason cr{static_cast<websocket::close_code>(code), reason};
  ws_.async_close(cr, [self = shared_from_this()](beast::error_code ec) {
    // The pending read completes with `closed` once the client answers; that finishes us.
    if (ec)
      self->finish(ec, "close");
  });
}

void websocket_session::finish(beast::error_code ec, const char* what) {
  if (finished_)
    return;
  finished_ = true;
  if (ec && ec != websocket::error::closed && ec != asio::error::operation_aborted
      && ec != asio::error::eof && ec != asio::error::connection_reset)
    spdlog::debug("ws {}: {}", what, ec.message());
  if (actor_) {
    instruments().open.sub(1);
    caf::anon_send(actor_, closed_atom_v);
    actor_ = nullptr;
  }
  ctx_.sessions.remove(this);
  beast::error_code ignored;
  ws_.next_layer().next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  ws_.next_layer().next_layer().close(ignored);
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
