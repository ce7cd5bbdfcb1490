#include "tools/http_client.hpp"

#include "common/json_text.hpp"
#include "tools/json_scan.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <utility>

namespace parley::tools {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
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
  tcp::resolver::results_type endpoints;  // resolved on first connect
};

// One keep-alive connection running one request at a time on the owner's io_context. `done`
// is always invoked through the io_context, never from inside start().
class connection {
public:
  using handler = std::function<void(http_response)>;

  connection(asio::io_context& ioc, settings& s) : ioc_(ioc), s_(s), stream_(ioc) {}

  void start(const http_request& r, milliseconds timeout, handler done) {
    done_ = std::move(done);
    started_ = steady::now();
    deadline_ = started_ + (timeout.count() > 0 ? timeout : s_.opts.request_timeout);
    retried_ = false;
    aborted_ = false;
    auto verb = http::string_to_verb(r.method);
    if (verb == http::verb::unknown)
      return finish_error("unknown method " + r.method);
    req_ = {};
    req_.method(verb);
    req_.target(s_.url.base_path + r.target);
    req_.version(11);
    req_.set(http::field::host, s_.host_header);
    req_.set(http::field::user_agent, "parley-tools");
    if (!s_.opts.token.empty())
      req_.set(http::field::authorization, "Bearer " + s_.opts.token);
    if (!r.body.empty())
      req_.set(http::field::content_type, "application/json");
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
    if (s_.endpoints.empty()) {
      beast::error_code ec;
      tcp::resolver resolver{ioc_};
      s_.endpoints = resolver.resolve(s_.url.host, s_.url.port, ec);
      if (ec)
        return finish_error("resolve " + s_.url.host + ": " + ec.message());
    }
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
    parser_->body_limit(s_.opts.body_limit_bytes);
    stream_.expires_at(deadline_);
    http::async_read(stream_, buffer_, *parser_, [this](beast::error_code ec, std::size_t) {
      if (ec)
        return fail(ec, "read");
      auto res = parser_->release();
      parser_.reset();
      http_response out;
      out.status = static_cast<int>(res.result_int());
      out.body = std::move(res.body());
      if (!res.keep_alive())
        close();
      last_used_ = steady::now();
      finish(std::move(out));
    });
  }

  // The one place Beast and Asio errors become text.
  void fail(beast::error_code ec, const char* stage) {
    bool stale = reused_ && !retried_ && !aborted_ && ec != beast::error::timeout &&
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
    if (ec == beast::error::timeout)
      return finish_error(std::string{stage} + ": timed out");
    finish_error(std::string{stage} + ": " + ec.message());
  }

  void finish_error(std::string message) {
    http_response out;
    out.error = std::move(message);
    finish(std::move(out));
  }

  void finish(http_response out) {
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
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  handler done_;
  steady::time_point started_;
  steady::time_point deadline_;
  steady::time_point last_used_;
  bool reused_ = false;
  bool retried_ = false;
  bool aborted_ = false;
};

settings make_settings(http_url url, http_client_options opts) {
  settings s;
  s.host_header = url.port == "80" ? url.host : url.host + ":" + url.port;
  s.url = std::move(url);
  s.opts = std::move(opts);
  return s;
}

} // namespace

// -- addresses ----------------------------------------------------------------------------------

bool parse_http_url(std::string_view text, http_url& out, std::string& error) {
  auto rest = text;
  if (rest.substr(0, 8) == "https://") {
    error = "https is not supported (plain http only): " + std::string{text};
    return false;
  }
  if (rest.substr(0, 7) == "http://")
    rest.remove_prefix(7);
  else if (rest.find("://") != std::string_view::npos) {
    error = "not an http URL: " + std::string{text};
    return false;
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  http_url url;
  url.base_path = std::string{path};
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "bad IPv6 address in " + std::string{text};
      return false;
    }
    url.host = std::string{authority.substr(1, close - 1)};
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() == ':')
      port = after.substr(1);
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos)
      port = authority.substr(colon + 1);
  }
  if (url.host.empty()) {
    error = "no host in URL: " + std::string{text};
    return false;
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
      error = "bad port in URL: " + std::string{text};
      return false;
    }
    url.port = std::string{port};
  }
  out = std::move(url);
  return true;
}

std::string url_encode_segment(std::string_view segment) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

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
  });
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

// -- helpers ------------------------------------------------------------------------------------

std::string fetch_dev_token(http_client& client, std::string_view user_id, std::string& error) {
  auto res = client.post("/api/v1/dev/token", "{\"user_id\":" + json_quote(user_id) + "}");
  if (!res.success()) {
    error = "POST /api/v1/dev/token: " + res.describe() +
            (res.status == 404 ? " (is auth.dev_tokens on?)" : "");
    return {};
  }
  auto token = json_string(res.body, "token");
  if (token.empty())
    error = "POST /api/v1/dev/token: no token in " + res.body;
  return token;
}

} // namespace parley::tools
