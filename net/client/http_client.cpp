#include "net/client/http_client.hpp"

#include "net/beast.hpp"
#include "net/http_allow.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <limits>
#include <optional>
#include <utility>

namespace parley::net::client {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A kept-alive connection idle this long is reopened rather than reused: the server closes idle
// ones after its http.keep_alive_timeout (60 s by default), and a request written into a
// connection the server is closing may or may not have been seen.
constexpr auto max_idle_reuse = std::chrono::seconds{45};

// What the connections of one client or batch share.
struct settings {
  http_url url;
  http_client_options opts;
  std::string host_header;
  // Resolved on first connect (and checked against the allow list); reused after that.
  std::vector<tcp::endpoint> endpoints;
};

// One keep-alive connection running one request at a time on the owner's io_context. `done`
// is always invoked through the io_context, never from inside start().
class connection {
public:
  using handler = std::function<void(http_response)>;

  connection(asio::io_context& ioc, settings& s)
    : ioc_(ioc), s_(s), stream_(ioc), resolver_(ioc), resolve_timer_(ioc) {}

  // `on_piece` (may be null, else must outlive the request) takes a 2xx body piece by piece.
  void start(const http_request& r, milliseconds timeout, handler done,
             const body_piece_handler* on_piece = nullptr) {
    done_ = std::move(done);
    on_piece_ = on_piece;
    streamed_status_ = 0;
    started_ = steady::now();
    deadline_ = started_ + (timeout.count() > 0 ? timeout : s_.opts.request_timeout);
    retried_ = false;
    aborted_ = false;
    auto verb = http::string_to_verb(r.method);
    if (verb == http::verb::unknown)
      return finish_error("unknown method " + r.method);
    req_ = {};
    req_.method(verb);
    req_.target(request_target(s_.url, r.target));
    req_.version(11);
    req_.set(http::field::host, s_.host_header);
    req_.set(http::field::user_agent, s_.opts.user_agent);
    if (!s_.opts.token.empty())
      req_.set(http::field::authorization, "Bearer " + s_.opts.token);
    if (!r.body.empty())
      req_.set(http::field::content_type, "application/json");
    for (auto& [name, value] : r.headers)
      req_.set(name, value);
    req_.body() = r.body;
    req_.keep_alive(true);
    req_.prepare_payload();
    if (stream_.socket().is_open() && steady::now() - last_used_ > max_idle_reuse)
      close();
    reused_ = stream_.socket().is_open();
    if (reused_)
      write();
    else
      connect();
  }

  // Ends the request in flight (its handler sees "aborted").
  void abort() {
    aborted_ = true;
    if (resolving_) {
      resolving_ = false;
      resolver_.cancel();
      resolve_timer_.cancel();
      return finish_error("aborted");
    }
    close();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    buffer_.consume(buffer_.size());
  }

  bool busy() const { return static_cast<bool>(done_); }

private:
  void connect() {
    if (s_.endpoints.empty())
      return resolve();
    stream_.expires_at(std::min(deadline_, steady::now() + s_.opts.connect_timeout));
    stream_.async_connect(s_.endpoints, [this](beast::error_code ec, const tcp::endpoint&) {
      if (ec)
        return fail(ec, "connect");
      beast::error_code ignored;
      stream_.socket().set_option(tcp::no_delay(true), ignored);
      // Commands the worker starts must not inherit the server connection.
      ::fcntl(stream_.socket().native_handle(), F_SETFD, FD_CLOEXEC);
      write();
    });
  }

  // Resolves the host within the deadline. A lookup that outlives it is abandoned: its answer,
  // whenever it comes, finds `resolving_` false and is dropped.
  void resolve() {
    resolving_ = true;
    resolve_timer_.expires_at(deadline_);
    resolve_timer_.async_wait([this](beast::error_code ec) {
      if (ec || !resolving_)
        return;
      resolving_ = false;
      resolver_.cancel();
      fail(beast::error::timeout, "resolve");
    });
    resolver_.async_resolve(s_.url.host, s_.url.port,
                            [this](beast::error_code ec, tcp::resolver::results_type results) {
      if (!resolving_)
        return;
      resolving_ = false;
      resolve_timer_.cancel();
      if (ec)
        return fail(ec, "resolve");
      // Every address the name has must pass: a name that mixes public and inner addresses is
      // refused whole, and connections go only to what was checked here.
      std::vector<tcp::endpoint> checked;
      for (auto& entry : results) {
        if (s_.opts.allow) {
          auto why = s_.opts.allow->refusal(s_.url.host, entry.endpoint().address());
          if (!why.empty()) {
            http_response out;
            out.error = std::move(why);
            out.refused = true;
            return finish(std::move(out));
          }
        }
        checked.push_back(entry.endpoint());
      }
      s_.endpoints = std::move(checked);
      connect();
    });
  }

  void write() {
    stream_.expires_at(deadline_);
    http::async_write(stream_, req_, [this](beast::error_code ec, std::size_t) {
      if (ec)
        return fail(ec, "write");
      read();
    });
  }

  void read() {
    parser_.emplace();
    // Enforced in read_some(): Beast 1.74's own check lets a Content-Length over the limit
    // through when parsing eagerly, and refuses every Content-Length when the limit is none.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_at(deadline_);
    read_some();
  }

  // Reads until the response is complete or its body reaches body_limit_bytes: then it is an
  // answer all the same, cut there, and the rest is never read.
  void read_some() {
    http::async_read_some(stream_, buffer_, *parser_, [this](beast::error_code ec, std::size_t) {
      if (ec)
        return fail(ec, "read");
      if (streaming()) {
        if (!hand_over_piece())
          return stop_streaming();
        if (!parser_->is_done())
          return read_some();
      }
      auto limit = s_.opts.body_limit_bytes;
      bool cut = !streaming() && !parser_->is_done() && parser_->get().body().size() >= limit;
      if (!parser_->is_done() && !cut)
        return read_some();
      auto res = parser_->release();
      parser_.reset();
      http_response out;
      out.status = static_cast<int>(res.result_int());
      out.body = std::move(res.body());
      if (cut)
        out.body.resize(limit);
      out.body_cut = cut;
      if (cut || !res.keep_alive())
        close();
      last_used_ = steady::now();
      finish(std::move(out));
    });
  }

  // The one place Beast and Asio errors become text.
  void fail(beast::error_code ec, const char* stage) {
    // A stream whose pieces were handed over cannot be sent again.
    bool stale = reused_ && !retried_ && !aborted_ && streamed_status_ == 0 &&
                 ec != beast::error::timeout &&
                 (std::string_view{stage} == "write" || ec == http::error::end_of_stream ||
                  ec == asio::error::connection_reset || ec == asio::error::eof);
    close();
    if (stale) {
      // The server had closed the kept-alive connection: nothing of this request was answered.
      retried_ = true;
      reused_ = false;
      return connect();
    }
    if (aborted_)
      return finish_error("aborted");
    if (ec == beast::error::timeout) {
      http_response out;
      out.error = std::string{stage} + ": timed out";
      out.timed_out = true;
      return finish(std::move(out));
    }
    finish_error(std::string{stage} + ": " + ec.message());
  }

  void finish_error(std::string message) {
    http_response out;
    out.error = std::move(message);
    finish(std::move(out));
  }

  // A 2xx response whose body the caller takes piece by piece (stream()).
  bool streaming() const {
    if (!on_piece_ || !parser_ || !parser_->is_header_done())
      return false;
    auto status = parser_->get().result_int();
    return status >= 200 && status < 300;
  }

  // Hands what the parser holds of the body to the caller and empties it (string_body appends
  // at the string's current end, so the next piece starts afresh); false when the caller wants
  // no more.
  bool hand_over_piece() {
    streamed_status_ = static_cast<int>(parser_->get().result_int());
    auto& body = parser_->get().body();
    if (body.empty())
      return true;
    bool more = (*on_piece_)(body);
    body.clear();
    return more;
  }

  // The caller has read enough: the rest of the body is never read, so the connection cannot
  // carry another request.
  void stop_streaming() {
    parser_.reset();
    close();
    last_used_ = steady::now();
    finish(http_response{});
  }

  void finish(http_response out) {
    if (out.status == 0)
      out.status = streamed_status_;
    out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started_);
    asio::post(ioc_, [this, out = std::move(out)]() mutable {
      auto done = std::move(done_);
      done_ = nullptr;
      done(std::move(out));
    });
  }

  asio::io_context& ioc_;
  settings& s_;
  beast::tcp_stream stream_;
  tcp::resolver resolver_;
  asio::steady_timer resolve_timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  handler done_;
  const body_piece_handler* on_piece_ = nullptr;
  // The status of a stream whose pieces were handed over; 0 before.
  int streamed_status_ = 0;
  steady::time_point started_;
  steady::time_point deadline_;
  steady::time_point last_used_;
  bool reused_ = false;
  bool retried_ = false;
  bool aborted_ = false;
  bool resolving_ = false;
};

settings make_settings(http_url url, http_client_options opts) {
  settings s;
  s.host_header = host_header(url);
  s.url = std::move(url);
  s.opts = std::move(opts);
  return s;
}

} // namespace

// -- responses -------------------------------------------------------------------------------

std::string http_response::describe() const {
  if (!ok())
    return error;
  constexpr size_t shown = 300;
  auto text = "status " + std::to_string(status);
  if (!body.empty())
    text += ": " + (body.size() > shown ? body.substr(0, shown) + "..." : body);
  return text;
}

// -- http_client --------------------------------------------------------------------------------

struct http_client::impl {
  asio::io_context ioc{1};
  settings s;
  connection conn;
  const std::atomic<bool>* abort_flag = nullptr;

  impl(http_url url, http_client_options opts)
    : s(make_settings(std::move(url), std::move(opts))), conn(ioc, s) {}
};

http_client::http_client(http_url url, http_client_options opts)
  : impl_(std::make_unique<impl>(std::move(url), std::move(opts))) {}

http_client::~http_client() = default;

http_response http_client::request(const http_request& req, milliseconds timeout) {
  return run(req, timeout, nullptr);
}

http_response http_client::stream(const http_request& req, const body_piece_handler& on_piece,
                                  milliseconds timeout) {
  return run(req, timeout, &on_piece);
}

http_response http_client::run(const http_request& req, milliseconds timeout,
                               const body_piece_handler* on_piece) {
  auto& d = *impl_;
  http_response out;
  if (d.abort_flag && d.abort_flag->load()) {
    out.error = "aborted";
    return out;
  }
  bool done = false;
  d.ioc.restart();
  d.conn.start(req, timeout, [&](http_response r) {
    out = std::move(r);
    done = true;
  }, on_piece);
  bool aborting = false;
  while (!done) {
    d.ioc.run_for(milliseconds{50});
    if (!done && !aborting && d.abort_flag && d.abort_flag->load()) {
      aborting = true;
      d.conn.abort();
    }
  }
  return out;
}

http_response http_client::post(std::string target, std::string body, milliseconds timeout) {
  http_request req;
  req.method = "POST";
  req.target = std::move(target);
  req.body = std::move(body);
  return request(req, timeout);
}

http_response http_client::get(std::string target) {
  http_request req;
  req.method = "GET";
  req.target = std::move(target);
  return request(req);
}

void http_client::set_token(std::string token) {
  impl_->s.opts.token = std::move(token);
}

void http_client::set_abort_flag(const std::atomic<bool>* flag) {
  impl_->abort_flag = flag;
}

void http_client::close() {
  impl_->conn.close();
}

// -- http_batch ---------------------------------------------------------------------------------

struct http_batch::impl {
  asio::io_context ioc{1};
  settings s;
  std::vector<std::unique_ptr<connection>> conns;

  impl(http_url url, http_client_options opts, size_t connections)
    : s(make_settings(std::move(url), std::move(opts))) {
    for (size_t i = 0; i < std::max<size_t>(connections, 1); ++i)
      conns.push_back(std::make_unique<connection>(ioc, s));
  }
};

http_batch::http_batch(http_url url, http_client_options opts, size_t connections)
  : impl_(std::make_unique<impl>(std::move(url), std::move(opts), connections)) {}

http_batch::~http_batch() = default;

std::vector<http_response> http_batch::run(const std::vector<http_request>& reqs,
                                           milliseconds timeout) {
  auto& d = *impl_;
  std::vector<http_response> out(reqs.size());
  size_t next = 0;
  std::function<void(connection&)> launch = [&](connection& c) {
    if (next >= reqs.size())
      return;
    auto i = next++;
    c.start(reqs[i], timeout, [&, i, conn = &c](http_response r) {
      out[i] = std::move(r);
      launch(*conn);
    });
  };
  d.ioc.restart();
  for (auto& c : d.conns)
    launch(*c);
  d.ioc.run();
  return out;
}

} // namespace parley::net::client
