#include "support/test_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
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
