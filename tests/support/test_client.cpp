#include "support/test_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <poll.h>
#include <sys/socket.h>

namespace parley::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

void set_receive_timeout(tcp::socket& s, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

} // namespace

http_result http_call(uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body, const std::map<std::string, std::string>& headers) {
  return http_call("127.0.0.1", port, method, target, body, headers);
}

http_result http_call(const std::string& host, uint16_t port, const std::string& method,
                      const std::string& target, const std::string& body,
                      const std::map<std::string, std::string>& headers) {
  asio::io_context ioc;
  tcp::socket sock{ioc};
  sock.connect({asio::ip::make_address(host), port});
  set_receive_timeout(sock, 10000);
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host);
  for (auto& [k, v] : headers)
    req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(sock, req);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  parser.skip(method == "HEAD");
  http::read(sock, buf, parser);
  auto res = parser.release();
  http_result out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (auto& f : res) {
    std::string name{f.name_string()};
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string{f.value()};
  }
  beast::error_code ignored;
  sock.shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

std::string dev_token(uint16_t port, const std::string& user_id) {
  return dev_token("127.0.0.1", port, user_id);
}

std::string dev_token(const std::string& host, uint16_t port, const std::string& user_id) {
  auto res = http_call(host, port, "POST", "/api/v1/dev/token",
                       R"({"user_id":")" + user_id + "\"}");
  auto start = res.body.find("\"token\":\"");
  if (res.status != 200 || start == std::string::npos)
    return {};
  start += 9;
  return res.body.substr(start, res.body.find('"', start) - start);
}

int upgrade_status(uint16_t port, const std::string& target, const std::string& bearer) {
  std::map<std::string, std::string> headers{{"Connection", "Upgrade"},
                                             {"Upgrade", "websocket"},
                                             {"Sec-WebSocket-Version", "13"},
                                             {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  if (!bearer.empty())
    headers["Authorization"] = "Bearer " + bearer;
  return http_call(port, "GET", target, {}, headers).status;
}

struct stream_client::impl {
  asio::io_context ioc;
  tcp::socket sock{ioc};
  std::map<std::string, std::string> headers;
  std::string body;
  bool closed = false;

  // One read of what has arrived, waiting at most 100 ms for it; false once the server closed.
  bool read_some() {
    if (closed)
      return false;
    pollfd p{sock.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      return true;
    char chunk[4096];
    beast::error_code ec;
    auto n = sock.read_some(asio::buffer(chunk), ec);
    body.append(chunk, n);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again)
      closed = true;
    return !closed;
  }
};

stream_client::stream_client() : impl_(std::make_unique<impl>()) {
}

stream_client::~stream_client() {
  close();
}

int stream_client::open(uint16_t port, const std::string& target,
                        const std::map<std::string, std::string>& headers) {
  auto& im = *impl_;
  im.sock.connect({asio::ip::make_address("127.0.0.1"), port});
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  req += "\r\n";
  asio::write(im.sock, asio::buffer(req));
  im.sock.non_blocking(true);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  size_t end = std::string::npos;
  while ((end = im.body.find("\r\n\r\n")) == std::string::npos && im.read_some()
         && std::chrono::steady_clock::now() < deadline) {
  }
  if (end == std::string::npos)
    return 0;
  auto head = im.body.substr(0, end);
  im.body.erase(0, end + 4);
  auto line_end = head.find("\r\n");
  auto status_line = head.substr(0, line_end);
  for (size_t pos = line_end; pos != std::string::npos && pos + 2 < head.size();) {
    auto next = head.find("\r\n", pos + 2);
    auto line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto name = line.substr(0, colon);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      im.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = next;
  }
  auto sp = status_line.find(' ');
  return sp == std::string::npos ? 0 : std::atoi(status_line.c_str() + sp + 1);
}

const std::map<std::string, std::string>& stream_client::headers() const {
  return impl_->headers;
}

bool stream_client::wait_for(const std::string& needle, size_t count, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
  while (count_of(impl_->body, needle) < count) {
    if (!impl_->read_some() || std::chrono::steady_clock::now() >= deadline)
      return count_of(impl_->body, needle) >= count;
  }
  return true;
}

bool stream_client::wait_closed(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
  while (impl_->read_some() && std::chrono::steady_clock::now() < deadline) {
  }
  return impl_->closed;
}

const std::string& stream_client::body() const {
  return impl_->body;
}

void stream_client::close() {
  beast::error_code ignored;
  impl_->sock.shutdown(tcp::socket::shutdown_both, ignored);
  impl_->sock.close(ignored);
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

struct ws_client::impl {
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buf;
  int close_code = 0;
  std::string close_reason;
  bool binary = false;
  std::string last_error;
  // A read stays pending across read() calls that time out, so a timeout never breaks the
  // stream (cancelling a Beast read would).
  bool reading = false;
  bool ready = false;
  beast::error_code read_ec;
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {
}

ws_client::~ws_client() {
  beast::error_code ignored;
  impl_->ws.next_layer().close(ignored);
}

int ws_client::connect(uint16_t port, const std::string& target, const std::string& bearer,
                       int receive_buffer) {
  return connect("127.0.0.1", port, target, bearer, receive_buffer);
}

int ws_client::connect(const std::string& host, uint16_t port, const std::string& target,
                       const std::string& bearer, int receive_buffer) {
  auto& sock = impl_->ws.next_layer();
  sock.open(tcp::v4());
  if (receive_buffer > 0)
    sock.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
  sock.connect({asio::ip::make_address(host), port});
  set_receive_timeout(sock, 10000);
  impl_->ws.set_option(websocket::stream_base::decorator([bearer](websocket::request_type& req) {
    if (!bearer.empty())
      req.set(http::field::authorization, "Bearer " + bearer);
  }));
  websocket::response_type res;
  beast::error_code ec;
  impl_->ws.handshake(res, host, target, ec);
  if (ec)
    return -1;
  impl_->ws.read_message_max(64 << 20);
  return 101;
}

void ws_client::send_text(const std::string& payload) {
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(payload));
}

void ws_client::send_binary(const std::string& payload) {
  impl_->ws.binary(true);
  impl_->ws.write(asio::buffer(payload));
}

void ws_client::ping() {
  impl_->ws.ping({});
}

bool ws_client::try_send_text(const std::string& payload) {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(payload), ec);
  return !ec;
}

std::optional<std::string> ws_client::read(int timeout_ms) {
  auto& im = *impl_;
  if (!im.reading && !im.ready) {
    im.reading = true;
    im.buf.clear();
    im.ws.async_read(im.buf, [&im](beast::error_code ec, std::size_t) {
      im.read_ec = ec;
      im.ready = true;
      im.reading = false;
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
  im.ioc.restart();
  while (!im.ready && std::chrono::steady_clock::now() < deadline)
    im.ioc.run_one_until(deadline);
  if (!im.ready) {
    im.last_error = "timeout";
    return std::nullopt;
  }
  im.ready = false;
  if (auto ec = im.read_ec) {
    im.last_error = ec.message();
    // The close frame may have arrived even when replying to it failed (the server already
    // tore the socket down).
    if (ec == websocket::error::closed || im.ws.reason().code != 0) {
      im.close_code = im.ws.reason().code;
      im.close_reason = std::string{im.ws.reason().reason.c_str()};
    }
    return std::nullopt;
  }
  im.binary = im.ws.got_binary();
  return beast::buffers_to_string(im.buf.data());
}

bool ws_client::last_was_binary() const {
  return impl_->binary;
}

int ws_client::wait_close(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    if (!read(static_cast<int>(std::max<long>(left, 1))) && impl_->last_error != "timeout")
      return impl_->close_code;
  }
  return 0;
}

int ws_client::close_code() const {
  return impl_->close_code;
}

std::string ws_client::last_error() const {
  return impl_->last_error;
}

std::string ws_client::close_reason() const {
  return impl_->close_reason;
}

} // namespace parley::test
