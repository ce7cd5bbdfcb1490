#include "net/event_stream_session.hpp"

#include "common/metrics.hpp"

namespace parley::net {

namespace {

metrics::gauge& open_streams() {
  static auto& g = metrics::global().get_gauge("http_event_streams",
                                               "Open Server-Sent Events streams");
  return g;
}

} // namespace

event_stream_session::event_stream_session(tcp::socket&& socket, edge_context& ctx,
                                           event_stream spec, connection_limit::ticket slot)
  : socket_(std::move(socket)), ctx_(ctx), spec_(std::move(spec)), slot_(std::move(slot)),
    timer_(socket_.get_executor()) {
  open_streams().add(1);
}

std::string event_stream_session::format(const stream_event& e) {
  std::string out;
  out.reserve(e.data.size() + e.event.size() + 40);
  out += "id: ";
  out += std::to_string(e.id);
  out += "\nevent: ";
  out += e.event;
  out += "\ndata: ";
  // One data line: a line break inside would end the field (JSON has none unescaped).
  for (char c : e.data)
    out += (c == '\n' || c == '\r') ? ' ' : c;
  out += "\n\n";
  return out;
}

void event_stream_session::run(std::string head) {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), head = std::move(head)] {
    self->watch_peer();
    // The head, the retry hint and the backlog go out in one write.
    self->head_ = head + "retry: " + std::to_string(retry_ms) + "\n\n";
    self->tick();
  });
}

event_stream_session::~event_stream_session() {
  if (!closed_)
    open_streams().sub(1);  // the io threads stopped with the stream open
}

void event_stream_session::tick() {
  if (closed_)
    return;
  auto now = std::chrono::steady_clock::now();
  if (writing_) {
    if (now - write_started_ > stall_limit)
      return close();
  } else if (ctx_.draining.load() || ctx_.lame_duck.load()) {
    return finish(ctx_.draining.load() ? "shutting down" : "draining");
  } else {
    auto text = std::move(head_);
    head_.clear();
    auto events = spec_.source(spec_.after, spec_.max_batch);
    for (auto& e : events) {
      text += format(e);
      spec_.after = e.id;
    }
    if (text.empty() && now - last_sent_ > keepalive)
      text = ": keepalive\n\n";
    if (!text.empty())
      write(std::move(text));
  }
  timer_.expires_after(spec_.interval);
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec)
      self->tick();
  });
}

void event_stream_session::write(std::string text) {
  if (writing_ || closed_)
    return;
  writing_ = true;
  out_ = std::move(text);
  write_started_ = std::chrono::steady_clock::now();
  asio::async_write(socket_, asio::buffer(out_),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->on_write(ec);
                    });
}

void event_stream_session::on_write(beast::error_code ec) {
  writing_ = false;
  last_sent_ = std::chrono::steady_clock::now();
  if (ec || ending_)
    return close();
}

void event_stream_session::watch_peer() {
  // A client says nothing on a stream: a read that completes is its close (or bytes to drop).
  socket_.async_read_some(asio::buffer(peer_byte_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec)
                              return self->close();
                            self->watch_peer();
                          });
}

void event_stream_session::finish(const std::string& reason) {
  if (writing_ || closed_)
    return close();
  ending_ = true;
  write(format({spec_.after, "end", R"({"reason":")" + reason + "\"}"}));
}

void event_stream_session::close() {
  if (closed_)
    return;
  closed_ = true;
  open_streams().sub(1);
  timer_.cancel();
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  spec_.hold.reset();  // the stream no longer counts against its limit
}

} // namespace parley::net
