#include "net/http_session.hpp"

#include "common/metrics.hpp"
#include "net/auth.hpp"
#include "net/event_stream_session.hpp"
#include "net/rate_limit_http.hpp"
#include "net/websocket_session.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <cerrno>

namespace parley::net {

namespace {

struct http_metrics {
  metrics::counter& requests = metrics::global().get_counter(
    "http_requests_total", "HTTP requests answered");
  metrics::counter& too_large = metrics::global().get_counter(
    "http_body_too_large_total", "HTTP requests refused with 413");
  metrics::counter& hangups = metrics::global().get_counter(
    "http_hangups_total", "Waiting requests (long polls) whose client hung up before the answer");
  metrics::histogram& latency = metrics::global().get_histogram(
    "http_request_seconds", "Time from a complete request to its answer being queued",
    metrics::latency_buckets());
};

http_metrics& instruments() {
  static http_metrics m;
  return m;
}

// Bytes asked of the socket per read: a redirect or a check request is a few hundred, and
// pipelined ones arrive together.
constexpr size_t read_chunk_bytes = 4096;

// The 413 of a body over http.body_limit_bytes, from either reader (counted).
fault body_too_large(size_t limit) {
  instruments().too_large.inc();
  return make_fault(errc::too_large, "request body exceeds " + std::to_string(limit) + " bytes");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::string url_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && in[i] == '+' ? ' ' : in[i]);
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (!pair.empty()) {
      if (eq == std::string_view::npos)
        out[url_decode(pair, true)] = "";
      else
        out[url_decode(pair.substr(0, eq), true)] = url_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

http_session::http_session(socket_type&& socket, edge_context& ctx,
                           connection_limit::ticket slot)
  : socket_(std::move(socket)), ctx_(ctx),
    reader_(http_reader::limits{http_reader::limits{}.head_bytes, ctx.opts.http.body_limit_bytes}),
    slot_(std::move(slot)), answer_timer_(socket_.get_executor()),
    deadline_timer_(socket_.get_executor()) {
  beast::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec)
    remote_ip_ = ep.address().to_string();
}

void http_session::run() {
  // Start on the strand the socket's executor belongs to.
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void http_session::do_read() {
  expire_after(first_request_ ? ctx_.opts.http.request_timeout
                              : ctx_.opts.http.keep_alive_timeout);
  read_request();
}

void http_session::read_request() {
  // A pipelined request may be here already: read the socket only when the bytes run short.
  auto data = std::string_view{static_cast<const char*>(buffer_.data().data()), buffer_.size()};
  lean_request req;
  switch (data.empty() ? http_reader::outcome::need_more : reader_.read(data, req)) {
    case http_reader::outcome::done:
      return handle(std::move(req));
    case http_reader::outcome::fallback:
      return read_with_beast();
    case http_reader::outcome::bad_request:
      return refuse(make_fault(errc::bad_request,
                               "malformed HTTP request: " + std::string{req.problem}));
    case http_reader::outcome::head_too_large:
      return refuse(make_fault(errc::bad_request, "malformed HTTP request: header limit exceeded"));
    case http_reader::outcome::body_too_large:
      return refuse(body_too_large(ctx_.opts.http.body_limit_bytes));
    case http_reader::outcome::need_more:
      break;
  }
  socket_.async_read_some(buffer_.prepare(read_chunk_bytes),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            // End of stream, timeout, reset: nothing to answer.
                            if (ec)
                              return self->do_close();
                            self->buffer_.commit(n);
                            self->read_request();
                          });
}

void http_session::read_with_beast() {
  // The bytes already received stay in buffer_: Beast's read parses them first.
  parser_.emplace();
  parser_->body_limit(ctx_.opts.http.body_limit_bytes);
  http::async_read_header(socket_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->on_header(ec, n);
                          });
}

void http_session::on_header(beast::error_code ec, std::size_t n) {
  // Requests without a body (most GETs) are complete here: no second read.
  if (ec || parser_->is_done())
    return on_read(ec, n);
  auto& req = parser_->get();
  // A client that asked before sending its body (curl does past 1 KiB) waits for this line;
  // a body over the limit was already refused by the parser (body_limit at the header).
  if (req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue")) {
    static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
    return asio::async_write(socket_, asio::buffer(continue_line),
                             [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                               if (ec)
                                 return self->on_read(ec, n);
                               self->read_body();
                             });
  }
  read_body();
}

void http_session::read_body() {
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                     self->on_read(ec, n);
                   });
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout
      || ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
    return do_close();
  if (ec == http::error::body_limit)
    return refuse(body_too_large(ctx_.opts.http.body_limit_bytes));
  if (ec)
    return refuse(make_fault(errc::bad_request, "malformed HTTP request: " + ec.message()));
  first_request_ = false;
  handle(parser_->release());
}

void http_session::refuse(const fault& f) {
  keep_alive_ = false;
  head_ = false;
  write(http_response::error(f));
}

void http_session::handle(http::request<http::string_body>&& req) {
  handling_ = true;
  keep_alive_ = req.keep_alive() && !ctx_.draining.load();
  http10_ = req.version() == 10;
  head_ = req.method() == http::verb::head;
  auto target = std::string_view{req.target().data(), req.target().size()};
  auto qpos = target.find('?');
  auto path = url_decode(target.substr(0, qpos), false);
  if (websocket::is_upgrade(req)) {
    if (path == "/ws" && ctx_.websockets)
      return upgrade(std::move(req));
    return write(http_response::error(make_fault(errc::not_found, "no WebSocket at " + path)));
  }
  http_request r;
  r.method = std::string{req.method_string()};
  r.path = std::move(path);
  if (qpos != std::string_view::npos)
    r.query = parse_query(target.substr(qpos + 1));
  r.headers.reserve(8);
  for (auto& field : req) {
    std::string name{field.name_string()};
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string{field.value()});
  }
  r.body = std::move(req.body());
  serve(std::move(r));
}

void http_session::handle(lean_request&& req) {
  handling_ = true;
  first_request_ = false;
  keep_alive_ = req.keep_alive && !ctx_.draining.load();
  http10_ = req.version == 10;
  head_ = req.method == "HEAD";
  auto qpos = req.target.find('?');
  http_request r;
  r.method = std::string{req.method};
  r.path = url_decode(req.target.substr(0, qpos), false);
  if (qpos != std::string_view::npos)
    r.query = parse_query(req.target.substr(qpos + 1));
  r.headers = std::move(req.headers);
  r.body = std::string{req.body};
  buffer_.consume(req.size);  // the views into it are copied
  serve(std::move(r));
}

void http_session::serve(http_request r) {
  r.remote_ip = remote_ip_;
  auto start = std::chrono::steady_clock::now();
  // The answer may come from another thread (an actor's reply): hop back onto our I/O thread.
  responder respond = [self = shared_from_this(), start](http_response res) {
    instruments().latency.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    asio::dispatch(self->socket_.get_executor(),
                   [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
  };
  r.watch_disconnect = [self = shared_from_this(), request = answers_](
                         std::function<void()> on_gone) {
    // On the strand: a handler may run on the large-body thread.
    asio::dispatch(self->socket_.get_executor(),
                   [self, request, on_gone = std::move(on_gone)]() mutable {
                     self->watch_disconnect(request, std::move(on_gone));
                   });
  };
  r.answer_within = ctx_.opts.server.answer_timeout;
  // A cluster-scoped rate limit asked at another node resumes the request here, on this
  // session's strand.
  auto later = [this, &r]() -> resume_fn {
    return [self = shared_from_this(), r = std::move(r)](responder respond) mutable {
      asio::dispatch(self->socket_.get_executor(),
                     [self, r = std::move(r), respond = std::move(respond)]() mutable {
                       self->route(std::move(r), std::move(respond));
                     });
    };
  };
  if (!admit_http(ctx_, r, respond, false, later))
    return;
  route(std::move(r), std::move(respond));
}

void http_session::route(http_request r, responder respond) {
  auto answer = respond.watch();
  if (r.body.size() > edge_context::large_body_bytes && ctx_.offload) {
    auto& routes = ctx_.routes;
    // offload takes a std::function, which must be copyable: the responder rides in a holder
    // and the one run of the work takes it out.
    auto holder = std::make_shared<responder>(std::move(respond));
    return ctx_.offload([self = shared_from_this(), &routes, r = std::move(r), answer,
                         holder]() mutable {
      routes.dispatch(r, std::move(*holder));
      asio::dispatch(self->socket_.get_executor(), [self, answer, within = r.answer_within] {
        self->arm_answer_timer(answer, within);
      });
    });
  }
  ctx_.routes.dispatch(r, std::move(respond));
  arm_answer_timer(answer, r.answer_within);
}

void http_session::arm_answer_timer(responder::weak answer, std::chrono::milliseconds within) {
  if (!answer.pending())
    return;  // answered already (most requests), or dropped: then the 503 is on its way
  answer_timer_.expires_after(within);
  answer_timer_.async_wait([answer, within, self = shared_from_this()](beast::error_code ec) {
    if (ec)
      return;
    static auto& timeouts = metrics::global().get_counter(
      "http_answer_timeouts_total", "REST requests answered 503 after server.request_timeout_ms");
    auto res = http_response::error(make_fault(
      errc::unavailable, "no answer within " + std::to_string(within.count()) + " ms"));
    if (answer.answer(std::move(res)))
      timeouts.inc();
  });
}

void http_session::watch_disconnect(uint64_t request, std::function<void()> on_gone) {
  if (answers_ != request)
    return;  // answered already: nobody is waiting any more
  socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(), request,
                                              on_gone = std::move(on_gone)](
                                               beast::error_code ec) mutable {
    if (ec == asio::error::operation_aborted || self->answers_ != request)
      return;
    if (!ec) {
      // Readable does not mean gone: a pipelined next request makes the socket readable while
      // its client waits (the bytes stay for do_read), and edge-triggered epoll reports edges
      // for bytes a read has already taken (a request that came in two segments: the second
      // edge arrives after the read took both). Only a peek tells: 0 bytes is the peer's FIN.
      char byte;
      auto n = ::recv(self->socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0)
        return;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return self->watch_disconnect(request, std::move(on_gone));
    }
    instruments().hangups.inc();
    on_gone();
  });
}

void http_session::upgrade(http::request<http::string_body>&& req) {
  auto target = std::string_view{req.target().data(), req.target().size()};
  auto qpos = target.find('?');
  http_request r;
  if (qpos != std::string_view::npos)
    r.query = parse_query(target.substr(qpos + 1));
  r.method = "GET";
  r.path = "/ws";
  r.remote_ip = remote_ip_;
  r.headers.emplace_back("authorization", std::string{req[http::field::authorization]});
  r.headers.emplace_back("x-api-key", std::string{req["X-API-Key"]});
  // Connection attempts count against the HTTP rules too (a rule on "/ws" limits them); only a
  // refusal is answered here, an accepted upgrade goes on to 101.
  // A refusal may come from an actor thread (a cluster-scoped rule asked at another node).
  responder refuse = [self = shared_from_this()](http_response res) {
    asio::dispatch(self->socket_.get_executor(), [self, res = std::move(res)]() mutable {
      self->keep_alive_ = false;
      self->write(std::move(res));
    });
  };
  auto later = [this, &req, &r]() -> resume_fn {
    return [self = shared_from_this(), req = std::move(req),
            r = std::move(r)](responder refuse) mutable {
      asio::dispatch(self->socket_.get_executor(),
                     [self, req = std::move(req), r = std::move(r),
                      refuse = std::move(refuse)]() mutable {
                       self->accept_upgrade(std::move(req), std::move(r), std::move(refuse));
                     });
    };
  };
  if (!admit_http(ctx_, r, refuse, true, later))
    return;
  accept_upgrade(std::move(req), std::move(r), std::move(refuse));
}

void http_session::accept_upgrade(http::request<http::string_body> req, http_request r,
                                  responder refuse) {
  refuse.release();  // not refused: what follows answers (401, 503, 400) or upgrades itself
  jwt_claims claims;
  if (auto err = authenticate(r, ctx_.opts.auth, true, claims)) {
    keep_alive_ = false;
    return write(http_response::error(err));
  }
  if (ctx_.draining.load() || ctx_.lame_duck.load()) {
    keep_alive_ = false;
    auto res = http_response::error(make_fault(
      errc::unavailable, ctx_.draining.load() ? "server shutting down" : "server draining"));
    for (auto& [name, value] : res.headers)
      if (name == "Retry-After")
        value = "5";  // reconnecting elsewhere takes a moment
    return write(std::move(res));
  }
  auto& encoding = r.query_param("encoding");
  if (!encoding.empty() && encoding != "json" && encoding != "binary") {
    keep_alive_ = false;
    return write(http_response::error(
      make_fault(errc::bad_request, "encoding must be json or binary")));
  }
  auto preferred = encoding == "binary" ? wire_format::binary : wire_format::json;
  ws::upgrade_fields fields;
  fields.key = req[http::field::sec_websocket_key];
  fields.version = req[http::field::sec_websocket_version];
  for (auto [it, end] = req.equal_range(http::field::sec_websocket_extensions); it != end; ++it) {
    if (!fields.extensions.empty())
      fields.extensions += ',';
    fields.extensions += it->value();
  }
  auto accepted = ws::accept_handshake(fields, ctx_.opts.ws);
  if (!accepted) {
    keep_alive_ = false;
    auto res = http_response::error(accepted.error());
    if (fields.version != "13")
      res.headers.emplace_back("Sec-WebSocket-Version", "13");
    return write(std::move(res));
  }
  stop_deadline();
  // A client may send its first frames right behind the request: they are the session's now.
  std::string received{static_cast<const char*>(buffer_.data().data()), buffer_.size()};
  buffer_ = {};
  auto session = std::make_shared<websocket_session>(std::move(socket_), ctx_, preferred,
                                                     std::move(slot_));
  session->run(std::move(*accepted), std::move(claims), std::move(received));
}

void http_session::write(http_response res) {
  instruments().requests.inc();
  answer_timer_.cancel();
  handling_ = false;
  ++answers_;  // ends the disconnect watch of the request answered
  if (res.stream && !head_)
    return hand_to_stream(std::move(res));
  // The response is serialized by hand into one buffer and written with one call: Beast's
  // serializer walks a chain of buffer views that costs more than the small answers of this
  // server (short-link redirects, limiter checks) take to compute.
  auto& out = out_;
  out.clear();
  auto status = static_cast<unsigned>(res.status);
  out += http10_ ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: parleyd\r\n";
  bool bodiless = status == 204 || status == 304 || (status >= 100 && status < 200);
  if (!bodiless) {
    out += "Content-Type: ";
    out += res.content_type;
    out += "\r\nContent-Length: ";
    out += std::to_string(res.body.size());
    out += "\r\n";
  }
  for (auto& [name, value] : res.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!keep_alive_)
    out += "Connection: close\r\n";
  else if (http10_)
    out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!head_ && !bodiless)
    out += res.body;
  expire_after(ctx_.opts.http.request_timeout);
  asio::async_write(socket_, asio::buffer(out),
                    [self = shared_from_this(), close = !keep_alive_](beast::error_code ec,
                                                                      std::size_t n) {
                      self->on_write(close, ec, n);
                    });
}

void http_session::hand_to_stream(http_response res) {
  // No Content-Length: the stream's body lasts until the connection closes.
  std::string head = "HTTP/1.1 200 OK\r\nServer: parleyd\r\nContent-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
  for (auto& [name, value] : res.headers)
    head += name + ": " + value + "\r\n";
  head += "Connection: close\r\n\r\n";
  stop_deadline();
  auto s = std::make_shared<event_stream_session>(tcp::socket{std::move(socket_)}, ctx_,
                                                  std::move(*res.stream), std::move(slot_));
  s->run(std::move(head));
}

void http_session::on_write(bool close, beast::error_code ec, std::size_t) {
  if (ec || close)
    return do_close();
  do_read();
}

void http_session::do_close() {
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  // Read and drop what the client still sends (say, the rest of a refused body) until it
  // closes or a second passes: closing with unread data resets the connection, and the
  // client could lose the answer just written.
  expire_after(std::chrono::seconds{1});
  linger();
}

void http_session::linger() {
  buffer_.consume(buffer_.size());
  socket_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) {
                              beast::error_code ignored;
                              self->socket_.close(ignored);
                              // Its wait holds the session (and its connection slot) otherwise.
                              return self->stop_deadline();
                            }
                            self->linger();
                          });
}

void http_session::expire_after(std::chrono::steady_clock::duration d) {
  deadline_ = std::chrono::steady_clock::now() + d;
  // Most calls move the deadline later: the armed wait stays and re-arms itself when it fires.
  if (deadline_armed_ && deadline_timer_.expiry() <= deadline_)
    return;
  deadline_armed_ = true;
  deadline_timer_.expires_at(deadline_);  // a wait for later ends with operation_aborted
  deadline_timer_.async_wait(
    [self = shared_from_this()](beast::error_code ec) { self->on_deadline(ec); });
}

void http_session::on_deadline(beast::error_code ec) {
  // Re-armed for a sooner deadline, or stopped; a socket handed to another session is not ours.
  if (ec == asio::error::operation_aborted || !socket_.is_open())
    return;
  // A request being handled has its handler's time (answer_timer_, or a long poll's own wait),
  // not the I/O deadline: the answer's write sets the next one.
  if (handling_) {
    deadline_armed_ = false;
    return;
  }
  if (std::chrono::steady_clock::now() < deadline_) {
    deadline_timer_.expires_at(deadline_);
    return deadline_timer_.async_wait(
      [self = shared_from_this()](beast::error_code ec) { self->on_deadline(ec); });
  }
  deadline_armed_ = false;
  beast::error_code ignored;
  socket_.close(ignored);
}

void http_session::stop_deadline() {
  deadline_armed_ = false;
  deadline_timer_.cancel();
}

} // namespace parley::net
