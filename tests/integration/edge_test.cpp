// A real node on a free loopback port with a temporary data directory, driven through its
// public HTTP and WebSocket interface.
#include "support/running_node.hpp"
#include "common/utf8.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/ops_handlers.hpp"
#include "net/server.hpp"
#include "node/node.hpp"
#include "proto/parley.pb.h"
#include "support/temp_dir.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>

#include <atomic>
#include <mutex>
#include <thread>

using namespace parley;
using namespace std::chrono_literals;

namespace {

const std::string& secret = test::test_secret;

} // namespace

// The node's count of connections closed past their outbound bound.
int overflows(test::running_node& node) {
  auto body = test::http_call(node.port(), "GET", "/metrics").body;
  const std::string needle = "\nparley_ws_outbound_overflows_total ";
  auto at = body.find(needle);
  return at == std::string::npos ? -1 : std::stoi(body.substr(at + needle.size()));
}

using test::connect;
using test::read_frame;
using test::running_node;

TEST_CASE("health, readiness and metrics answer on a running node") {
  running_node node;
  CHECK(test::http_call(node.port(), "GET", "/healthz").status == 200);
  auto ready = test::http_call(node.port(), "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body.find("\"status\":\"ok\"") != std::string::npos);
  auto m = test::http_call(node.port(), "GET", "/metrics");
  CHECK(m.status == 200);
  CHECK(m.headers["content-type"].find("text/plain") == 0);
  CHECK(m.body.find("# TYPE parley_http_requests_total counter") != std::string::npos);
  CHECK(m.body.find("parley_process_resident_bytes") != std::string::npos);
}

TEST_CASE("errors follow the JSON error model with their codes") {
  running_node node;
  auto missing = test::http_call(node.port(), "GET", "/api/v1/nothing");
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"error":{"code":"not_found","message":"no route for /api/v1/nothing"}})");
  auto wrong_method = test::http_call(node.port(), "DELETE", "/healthz");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.headers["allow"] == "GET, HEAD");
  CHECK(wrong_method.body.find(R"("code":"method_not_allowed")") != std::string::npos);
  auto plain_ws = test::http_call(node.port(), "GET", "/ws");
  CHECK(plain_ws.status == 426);
}

TEST_CASE("a body over the limit is refused with 413 too_large") {
  running_node node{{"http.body_limit_bytes=4096"}};
  auto res = test::http_call(node.port(), "POST", "/api/v1/dev/token", std::string(5000, 'x'));
  CHECK(res.status == 413);
  CHECK(res.body.find("\"code\":\"too_large\"") != std::string::npos);
  // The node keeps serving.
  CHECK(test::http_call(node.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("dev tokens validate their input and carry role and tier") {
  running_node node;
  auto bad_json = test::http_call(node.port(), "POST", "/api/v1/dev/token", "{oops");
  CHECK(bad_json.status == 400);
  CHECK(bad_json.body.find("bad_request") != std::string::npos);
  auto no_user = test::http_call(node.port(), "POST", "/api/v1/dev/token", "{}");
  CHECK(no_user.status == 400);
  CHECK(no_user.body.find("user_id is required") != std::string::npos);
  auto bad_user = test::http_call(node.port(), "POST", "/api/v1/dev/token",
                                  R"({"user_id":"no spaces"})");
  CHECK(bad_user.status == 400);
  auto bad_role = test::http_call(node.port(), "POST", "/api/v1/dev/token",
                                  R"({"user_id":"a","role":"root"})");
  CHECK(bad_role.status == 400);
  auto ok = test::http_call(node.port(), "POST", "/api/v1/dev/token",
                            R"({"userId":"carol","role":"admin","tier":"pro"})");
  REQUIRE(ok.status == 200);
  auto start = ok.body.find("\"token\":\"") + 9;
  auto token = ok.body.substr(start, ok.body.find('"', start) - start);
  net::jwt_claims claims;
  REQUIRE_FALSE(net::jwt_verify(token, secret, net::unix_now(), 0, claims));
  CHECK(claims.sub == "carol");
  CHECK(claims.role == "admin");
  CHECK(claims.tier == "pro");
}

TEST_CASE("the dev token endpoint does not exist unless enabled") {
  running_node node{{"auth.dev_tokens=false"}};
  CHECK(test::http_call(node.port(), "POST", "/api/v1/dev/token", R"({"user_id":"a"})").status
        == 404);
}

TEST_CASE("a WebSocket upgrade needs a valid token") {
  running_node node;
  CHECK(test::upgrade_status(node.port(), "/ws") == 401);
  net::jwt_claims c;
  c.sub = "alice";
  c.exp = net::unix_now() + 60;
  CHECK(test::upgrade_status(node.port(), "/ws", net::jwt_sign(c, "some-other-secret-123456"))
        == 401);
  CHECK(test::upgrade_status(node.port(), "/ws?token=garbage") == 401);
  c.exp = net::unix_now() - 31;  // expired beyond auth.clock_skew_sec (30 s)
  CHECK(test::upgrade_status(node.port(), "/ws", net::jwt_sign(c, secret)) == 401);
  CHECK(test::upgrade_status(node.port(), "/elsewhere", test::dev_token(node.port(), "a")) == 404);
  CHECK(test::upgrade_status(node.port(), "/ws?encoding=xml", test::dev_token(node.port(), "a"))
        == 400);
  test::ws_client query;
  CHECK(query.connect(node.port(), "/ws?token=" + test::dev_token(node.port(), "bob")) == 101);
  CHECK(read_frame(query).welcome().user_id() == "bob");
}

TEST_CASE("welcome, hello and ping over text and binary frames") {
  running_node node;
  test::ws_client ws;
  REQUIRE(ws.connect(node.port(), "/ws", test::dev_token(node.port(), "alice")) == 101);
  auto welcome = read_frame(ws);
  REQUIRE(welcome.has_welcome());
  CHECK(welcome.welcome().user_id() == "alice");
  CHECK(welcome.welcome().node() == node.n->id());
  CHECK(welcome.welcome().heartbeat_interval_ms() == 25000);

  ws.send_text(R"({"request_id":"h","hello":{"device_id":"laptop"}})");
  auto hello = read_frame(ws);
  CHECK(hello.request_id() == "h");
  CHECK(hello.welcome().device_id() == "laptop");

  ws.send_text(R"({"request_id":"p1","ping":{}})");
  auto pong = read_frame(ws);
  CHECK(pong.request_id() == "p1");
  CHECK(pong.has_pong());

  pb::ClientFrame bin;
  bin.set_request_id("p2");
  bin.mutable_ping();
  ws.send_binary(bin.SerializeAsString());
  auto bin_pong = read_frame(ws);
  CHECK(ws.last_was_binary());
  CHECK(bin_pong.request_id() == "p2");
}

TEST_CASE("malformed frames get an error frame and the connection lives") {
  running_node node;
  auto ws = connect(node);
  ws->send_text("{this is not json");
  auto e1 = read_frame(*ws);
  REQUIRE(e1.has_error());
  CHECK(e1.error().code() == "bad_request");
  ws->send_text(R"({"request_id":"u","warp":{}})");
  auto e2 = read_frame(*ws);
  CHECK(e2.request_id() == "u");
  CHECK(e2.error().code() == "bad_request");
  ws->send_binary("\xff\xfe\xfd garbage");
  auto e3 = read_frame(*ws);
  CHECK(ws->last_was_binary());
  CHECK(e3.error().code() == "bad_request");
  ws->send_text(R"({"request_id":"still","ping":{}})");
  CHECK(read_frame(*ws).request_id() == "still");
}

TEST_CASE("a message longer than one read chunk arrives whole") {
  running_node node;
  auto ws = connect(node);
  std::string id(10000, 'r');
  ws->send_text(R"({"request_id":")" + id + R"(","ping":{}})");
  auto pong = read_frame(*ws);
  CHECK(pong.request_id() == id);
  ws->send_text(R"({"request_id":"small","ping":{}})");
  CHECK(read_frame(*ws).request_id() == "small");
}

TEST_CASE("a frame over ws.max_frame_bytes closes the connection with 1009") {
  running_node node{{"ws.max_frame_bytes=1024"}};
  auto ws = connect(node);
  ws->send_text(R"({"request_id":")" + std::string(2000, 'x') + R"(","ping":{}})");
  auto code = ws->wait_close();
  INFO(ws->last_error());
  CHECK(code == 1009);
}

TEST_CASE("invalid UTF-8 in a text frame closes the connection with 1007") {
  running_node node;
  auto ws = connect(node);
  ws->send_text("{\"request_id\":\"\xc3\x28\"}");
  CHECK(ws->wait_close() == 1007);
}

TEST_CASE("a client that never reads is closed with 1013 past its outbound bound") {
  running_node node{{"ws.max_outbound_bytes=4096"}};
  test::ws_client ws;
  REQUIRE(ws.connect(node.port(), "/ws", test::dev_token(node.port(), "slow"), 4096) == 101);
  // Pings without reading: pongs pile up in the kernel buffers, then in the outbound queue.
  int sent = 0;
  while (sent < 300000 && ws.try_send_text(R"({"ping":{}})"))
    ++sent;
  // 1013, or a dropped socket if the flood outlasted the close grace period (the close frame
  // could not get out while this client was not reading).
  CHECK(overflows(node) >= 1);
  auto code = ws.wait_close(20000);
  CHECK((code == 1013 || code == 0));
  CHECK(ws.last_error() != "timeout");
  // Other users are unaffected.
  auto other = connect(node, "fast");
  other->send_text(R"({"request_id":"ok","ping":{}})");
  CHECK(read_frame(*other).request_id() == "ok");
}

TEST_CASE("error replies to a flood of malformed frames count against the outbound bound") {
  running_node node{{"ws.max_outbound_bytes=4096"}};
  test::ws_client ws;
  REQUIRE(ws.connect(node.port(), "/ws", test::dev_token(node.port(), "garbage"), 4096) == 101);
  int sent = 0;
  while (sent < 300000 && ws.try_send_text("x"))
    ++sent;
  // The frames may all sit in the server's receive buffer when the loop ends: the bound is
  // crossed while the server works through them, which takes a while on a loaded machine (the
  // kernel first absorbs megabytes of replies).
  for (int i = 0; i < 600 && overflows(node) < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  INFO("sent " << sent << " frames; client error: " << ws.last_error());
  CHECK(overflows(node) >= 1);
  auto code = ws.wait_close(20000);
  CHECK((code == 1013 || code == 0));
  CHECK(ws.last_error() != "timeout");
}

TEST_CASE("a client that never reads is dropped even though its close cannot be sent") {
  running_node node{{"ws.max_outbound_bytes=4096"}};
  test::ws_client ws;
  REQUIRE(ws.connect(node.port(), "/ws", test::dev_token(node.port(), "deaf"), 4096) == 101);
  int sent = 0;
  while (sent < 300000 && ws.try_send_text(R"({"ping":{}})"))
    ++sent;
  // The client reads nothing: the close frame stays stuck behind a write, and the reaper drops
  // the socket after the close grace period.
  auto gauge = [&] {
    auto body = test::http_call(node.port(), "GET", "/metrics").body;
    const std::string needle = "\nparley_ws_connections ";
    auto at = body.find(needle);
    return at == std::string::npos ? -1 : std::stoi(body.substr(at + needle.size()));
  };
  int open = -1;
  for (int i = 0; i < 100 && open != 0; ++i) {
    std::this_thread::sleep_for(100ms);
    open = gauge();
  }
  CHECK(open == 0);
}

TEST_CASE("a connection without heartbeat is closed after ws.idle_timeout_sec") {
  running_node node{{"ws.idle_timeout_sec=1", "ws.heartbeat_interval_ms=500"}};
  auto ws = connect(node);
  auto start = std::chrono::steady_clock::now();
  CHECK(ws->wait_close(5000) == 1001);
  CHECK(ws->close_reason() == "idle timeout");
  CHECK(std::chrono::steady_clock::now() - start < 4s);
}

TEST_CASE("WebSocket pings count as heartbeat and keep an idle connection open") {
  running_node node{{"ws.idle_timeout_sec=1", "ws.heartbeat_interval_ms=500"}};
  auto ws = connect(node);
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(300ms);
    ws->ping();
  }
  // 2.4 s after connecting, well past the 1 s idle timeout, the connection still answers.
  ws->send_text(R"({"request_id":"alive","ping":{}})");
  CHECK(read_frame(*ws).request_id() == "alive");
}

TEST_CASE("shutdown closes WebSockets with 1001 and stops listening") {
  running_node node;
  auto ws = connect(node);
  auto port = node.port();
  int code = 0;
  std::thread client{[&] { code = ws->wait_close(); }};
  node.n->shutdown();
  client.join();
  CHECK(code == 1001);
  CHECK_THROWS(test::http_call(port, "GET", "/healthz"));
}

TEST_CASE("keep-alive serves several requests on one connection") {
  running_node node;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock{ioc};
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), node.port()});
  std::string two = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::asio::write(sock, boost::asio::buffer(two));
  std::string got;
  char buf[4096];
  while (got.find("\"status\"", got.find("\"status\"") + 1) == std::string::npos) {
    auto n = sock.read_some(boost::asio::buffer(buf));
    got.append(buf, n);
  }
  CHECK(got.find("HTTP/1.1 200") != std::string::npos);
  CHECK(got.rfind("HTTP/1.1 200") != got.find("HTTP/1.1 200"));
}

namespace {

// Reads from `sock` until `text` has arrived or the peer closes; what arrived.
std::string read_until(boost::asio::ip::tcp::socket& sock, const std::string& text) {
  std::string got;
  char buf[4096];
  boost::system::error_code ec;
  while (got.find(text) == std::string::npos) {
    auto n = sock.read_some(boost::asio::buffer(buf), ec);
    if (ec)
      break;
    got.append(buf, n);
  }
  return got;
}

} // namespace

TEST_CASE("Expect: 100-continue is answered before the body is sent, and an oversized one gets 413") {
  running_node node{{"http.body_limit_bytes=4096", "auth.dev_tokens=true"}};
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock{ioc};
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), node.port()});
  std::string body = R"({"user_id":"carol"})";
  std::string head = "POST /api/v1/dev/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     "\r\nExpect: 100-continue\r\nContent-Length: "
                     + std::to_string(body.size()) + "\r\n\r\n";
  boost::asio::write(sock, boost::asio::buffer(head));
  // The body is sent only after the interim answer, as curl and browsers do.
  auto interim = read_until(sock, "\r\n\r\n");
  CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
  boost::asio::write(sock, boost::asio::buffer(body));
  auto answer = read_until(sock, "\"token\"");
  CHECK(answer.find("HTTP/1.1 200") == 0);

  boost::asio::ip::tcp::socket big{ioc};
  big.connect({boost::asio::ip::make_address("127.0.0.1"), node.port()});
  std::string too_big = "POST /api/v1/dev/token HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                        "Content-Length: 100000\r\n\r\n";
  boost::asio::write(big, boost::asio::buffer(too_big));
  auto refused = read_until(big, "too_large");
  CHECK(refused.find("HTTP/1.1 413") == 0);
  CHECK(refused.find("100 Continue") == std::string::npos);
}

namespace {

// A raw connection to `node` that sends `bytes` and reads until `text` arrives or the peer closes.
std::string exchange(running_node& node, const std::string& bytes, const std::string& text) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock{ioc};
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), node.port()});
  boost::asio::write(sock, boost::asio::buffer(bytes));
  return read_until(sock, text);
}

// The status codes of the answers in `got`, in order.
std::vector<int> statuses(const std::string& got) {
  std::vector<int> out;
  for (auto at = got.find("HTTP/1."); at != std::string::npos; at = got.find("HTTP/1.", at + 1))
    out.push_back(std::stoi(got.substr(at + 9, 3)));
  return out;
}

} // namespace

namespace {

// A masked client frame, as RFC 6455 requires of clients (`masked` false breaks that rule).
std::string client_frame(uint8_t opcode, const std::string& payload, bool masked = true) {
  std::string out;
  out.push_back(static_cast<char>(0x80 | opcode));
  out.push_back(static_cast<char>((masked ? 0x80 : 0) | payload.size()));  // < 126 bytes here
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  if (masked)
    out.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ (masked ? mask[i & 3] : 0)));
  return out;
}

std::string upgrade_request(const std::string& token) {
  return "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
         "Authorization: Bearer " + token + "\r\n\r\n";
}

} // namespace

TEST_CASE("raw WebSocket bytes: frames right behind the upgrade, pings, and protocol errors") {
  running_node node;
  auto token = test::signed_token("raw");
  SECTION("a frame sent with the upgrade request, and a ping, are answered") {
    auto got = exchange(node,
                        upgrade_request(token) + client_frame(1, R"({"request_id":"early","ping":{}})")
                          + client_frame(9, "hb"),
                        "\"request_id\":\"early\"");  // after the pong, which is answered at once
    CHECK(got.find("HTTP/1.1 101 Switching Protocols\r\n") == 0);
    CHECK(got.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);
    CHECK(got.find("\"request_id\":\"early\"") != std::string::npos);
    CHECK(got.find(std::string{"\x8a\x02hb", 4}) != std::string::npos);  // the pong
  }
  SECTION("an unmasked frame closes with 1002") {
    auto got = exchange(node, upgrade_request(token) + client_frame(1, "{}", false),
                        std::string{"\x03\xea", 2});
    CHECK(got.find(std::string{"\x88", 1}) != std::string::npos);
    CHECK(got.find(std::string{"\x03\xea", 2}) != std::string::npos);  // 1002
  }
  SECTION("the client's close is echoed") {
    auto got = exchange(node, upgrade_request(token) + client_frame(8, std::string{"\x0f\xa0", 2}),
                        std::string{"\x88\x02\x0f\xa0", 4});
    CHECK(got.find(std::string{"\x88\x02\x0f\xa0", 4}) != std::string::npos);  // 4000 back
  }
  SECTION("a wrong version is refused before the upgrade") {
    auto request = upgrade_request(token);
    request.replace(request.find("Version: 13"), 11, "Version: 8");
    auto got = exchange(node, request, "\r\n\r\n");
    CHECK(got.find("HTTP/1.1 400") == 0);
    CHECK(got.find("Sec-WebSocket-Version: 13") != std::string::npos);
  }
}

TEST_CASE("redirects and checks pipelined between other requests are answered in order") {
  running_node node{{"auth.dev_tokens=true"}};
  auto token = test::signed_token("billing");
  std::string check_body = R"({"key":"k1"})";
  auto check = "POST /api/v1/ratelimit/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
               + token + "\r\nContent-Length: " + std::to_string(check_body.size()) + "\r\n\r\n"
               + check_body;
  std::string token_body = R"({"user_id":"carol"})";
  auto mint = "POST /api/v1/dev/token HTTP/1.1\r\nHost: x\r\nContent-Length: "
              + std::to_string(token_body.size()) + "\r\n\r\n" + token_body;
  auto all = "GET /nosuchkey HTTP/1.1\r\nHost: x\r\n\r\n" + check + mint
             + "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + check
             + "GET /nosuchkey2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  // Byte by byte too: every request then arrives over many reads.
  for (bool dribble : {false, true}) {
    INFO("one byte per write: " << dribble);
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket sock{ioc};
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), node.port()});
    sock.set_option(boost::asio::ip::tcp::no_delay(true));
    if (dribble)
      for (char c : all)
        boost::asio::write(sock, boost::asio::buffer(&c, 1));
    else
      boost::asio::write(sock, boost::asio::buffer(all));
    auto got = read_until(sock, "no such text: read until the server closes");
    CHECK(statuses(got) == std::vector<int>{404, 400, 200, 200, 400, 404});
    CHECK(got.find("rule is required") != std::string::npos);  // the body arrived whole
    CHECK(got.find("\"token\"") != std::string::npos);
    CHECK(got.find("Connection: close") != std::string::npos);
  }
}

TEST_CASE("HTTP/1.0 redirects close unless kept alive, and a chunked check body is still read") {
  running_node node;
  auto once = exchange(node, "GET /nosuchkey HTTP/1.0\r\n\r\n", "no such text");
  CHECK(once.find("HTTP/1.0 404") == 0);
  CHECK(once.find("Connection: close") != std::string::npos);
  auto kept = exchange(node, "GET /nosuchkey HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                       "not_found");
  CHECK(kept.find("HTTP/1.0 404") == 0);
  CHECK(kept.find("Connection: keep-alive") != std::string::npos);

  auto chunked = "POST /api/v1/ratelimit/check HTTP/1.1\r\nAuthorization: Bearer "
                 + test::signed_token("billing")
                 + "\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"ke\r\n8\r\ny\":\"k1\"}\r\n0\r\n\r\n";
  auto answer = exchange(node, chunked, "rule is required");
  CHECK(answer.find("HTTP/1.1 400") == 0);
  CHECK(answer.find("rule is required") != std::string::npos);
}

TEST_CASE("malformed or oversized requests on the redirect and check paths are refused and closed") {
  running_node node{{"http.body_limit_bytes=1024"}};
  auto bad = exchange(node, "GET /k HTTP/1.1\r\nBad Header: x\r\n\r\n", "no such text");
  CHECK(bad.find("HTTP/1.1 400") == 0);
  CHECK(bad.find("malformed HTTP request") != std::string::npos);
  CHECK(bad.find("Connection: close") != std::string::npos);
  auto huge = exchange(node, "GET /k HTTP/1.1\r\nX-Pad: " + std::string(9000, 'p') + "\r\n\r\n",
                       "no such text");
  CHECK(huge.find("HTTP/1.1 400") == 0);
  CHECK(huge.find("header limit exceeded") != std::string::npos);
  auto big = exchange(node, "POST /api/v1/ratelimit/check HTTP/1.1\r\nContent-Length: 1025\r\n\r\n",
                      "no such text");
  CHECK(big.find("HTTP/1.1 413") == 0);
  CHECK(big.find("too_large") != std::string::npos);
  auto twice = exchange(node, "POST /api/v1/ratelimit/check HTTP/1.1\r\nContent-Length: 2\r\n"
                              "Content-Length: 3\r\n\r\n{}",
                        "no such text");
  CHECK(twice.find("HTTP/1.1 400") == 0);
}

TEST_CASE("one address holds at most server.max_connections_per_ip connections") {
  running_node node{{"server.max_connections_per_ip=3"}};
  boost::asio::io_context ioc;
  std::vector<std::unique_ptr<test::ws_client>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<test::ws_client>());
    REQUIRE(held.back()->connect(node.port(), "/ws", test::signed_token("u" + std::to_string(i)))
            == 101);
  }
  // The third connection (plain HTTP) still fits; a fourth is refused with 429 at once.
  boost::asio::ip::tcp::socket third{ioc};
  third.connect({boost::asio::ip::make_address("127.0.0.1"), node.port()});
  std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::asio::write(third, boost::asio::buffer(get));
  CHECK(read_until(third, "\"status\"").find("HTTP/1.1 200") == 0);
  boost::asio::ip::tcp::socket fourth{ioc};
  fourth.connect({boost::asio::ip::make_address("127.0.0.1"), node.port()});
  auto refused = read_until(fourth, "}}");
  CHECK(refused.find("HTTP/1.1 429") == 0);
  CHECK(refused.find("\"code\":\"rate_limited\"") != std::string::npos);
  // Another loopback address has its own allowance.
  boost::asio::ip::tcp::socket other{ioc};
  other.open(boost::asio::ip::tcp::v4());
  other.bind({boost::asio::ip::make_address("127.0.0.2"), 0});
  other.connect({boost::asio::ip::make_address("127.0.0.1"), node.port()});
  boost::asio::write(other, boost::asio::buffer(get));
  CHECK(read_until(other, "\"status\"").find("HTTP/1.1 200") == 0);
  // A closed WebSocket gives its slot back.
  held.pop_back();
  int status = 0;
  for (int attempt = 0; attempt < 100 && status != 101; ++attempt) {
    test::ws_client again;
    status = again.connect(node.port(), "/ws", test::signed_token("u9"));
    if (status != 101)
      std::this_thread::sleep_for(20ms);  // the server sees the close a moment later
  }
  CHECK(status == 101);
  // /metrics needs a connection of its own: free the slots first.
  third.close();
  held.clear();
  int64_t refused_count = -1;
  for (int attempt = 0; attempt < 100 && refused_count < 1; ++attempt) {
    std::this_thread::sleep_for(20ms);
    refused_count = test::metric_value(node, "parley_connections_refused_total");
  }
  CHECK(refused_count >= 1);
}

TEST_CASE("JSON nested deeper than 64 levels is refused at once, over REST and WebSocket") {
  running_node node;
  auto token = test::signed_token("alice");
  // 100,000 levels once held the node for minutes; now it is a 400 and the node keeps serving.
  auto deep = std::string(100000, '[') + std::string(100000, ']');
  auto res = test::http_call(node.port(), "POST", "/api/v1/tasks",
                             R"({"task_type":"t","payload":)" + deep + "}", test::bearer(token));
  CHECK(res.status == 400);
  CHECK(res.body.find("JSON nested deeper than 64 levels") != std::string::npos);
  // Free-form task JSON may nest 30 levels, and such a task reads back alone and in a listing.
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  auto ok = test::http_call(node.port(), "POST", "/api/v1/tasks",
                            R"({"task_type":"t","payload":)" + nested(30) + "}",
                            test::bearer(token));
  CHECK(ok.status == 201);
  auto listed = test::http_call(node.port(), "GET", "/api/v1/tasks", {}, test::bearer(token));
  CHECK(listed.body.find(nested(30)) != std::string::npos);
  auto too_deep = test::http_call(node.port(), "POST", "/api/v1/tasks",
                                  R"({"task_type":"t","payload":)" + nested(31) + "}",
                                  test::bearer(token));
  CHECK(too_deep.status == 400);
  CHECK(too_deep.body.find("payload nests deeper than 30 levels") != std::string::npos);
  auto ws = connect(node, "alice");
  ws->send_text(R"({"request_id":"d","send":{"to_user":"bob","client_msg_id":"m","body":)"
                + std::string(20000, '{') + "}");
  auto frame = read_frame(*ws);
  CHECK(frame.error().code() == "bad_request");
  CHECK(frame.error().message().find("nested deeper than 64") != std::string::npos);
  ws->send_text(R"({"request_id":"p","ping":{}})");
  CHECK(read_frame(*ws).has_pong());
}

TEST_CASE("error bodies never echo invalid UTF-8") {
  running_node node;
  auto res = test::http_call(node.port(), "GET", "/api/v1/%FF%FEabc");
  CHECK(res.status == 404);
  CHECK(is_valid_utf8(res.body));
  CHECK(res.body.find("abc") != std::string::npos);
  parley::pb::ErrorBody parsed;
  CHECK(google::protobuf::util::JsonStringToMessage(res.body, &parsed).ok());
}

TEST_CASE("tokens: a future nbf and a string exp are refused over HTTP and WebSocket") {
  running_node node;
  net::jwt_claims early;
  early.sub = "alice";
  early.exp = net::unix_now() + 3600;
  early.nbf = net::unix_now() + 600;  // beyond the 30 s default leeway
  auto early_token = net::jwt_sign(early, secret);
  auto res = test::http_call(node.port(), "GET", "/api/v1/feed", {}, test::bearer(early_token));
  CHECK(res.status == 401);
  CHECK(res.body.find("nbf") != std::string::npos);
  CHECK(test::upgrade_status(node.port(), "/ws", early_token) == 401);
  early.nbf = net::unix_now() + 10;  // within the leeway
  CHECK(test::upgrade_status(node.port(), "/ws", net::jwt_sign(early, secret)) == 101);

  auto input = net::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "."
               + net::base64url_encode(R"({"sub":"alice","exp":")"
                                       + std::to_string(net::unix_now() + 3600) + "\"}");
  auto string_exp = input + "." + net::base64url_encode(net::hmac_sha256(secret, input));
  CHECK(test::http_call(node.port(), "GET", "/api/v1/feed", {}, test::bearer(string_exp)).status
        == 401);
}

TEST_CASE("protobuf's own log lines go through the node's log, and client bytes only at debug") {
  running_node node;
  auto log = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log);
  auto logger = spdlog::default_logger();
  auto old_level = logger->level();
  logger->sinks().push_back(sink);
  auto ws = connect(node, "alice");
  // A binary frame whose request_id (field 1, a proto3 string) is not UTF-8: protobuf refuses
  // it and says so in its log.
  std::string frame = "\x0a\x02\xff\xfe";
  logger->set_level(spdlog::level::info);
  ws->send_binary(frame);
  CHECK(read_frame(*ws).error().code() == "bad_request");
  logger->set_level(spdlog::level::debug);
  ws->send_binary(frame);
  CHECK(read_frame(*ws).error().code() == "bad_request");
  logger->flush();
  logger->sinks().pop_back();
  logger->set_level(old_level);
  auto text = log->str();
  INFO(text);
  // Once, at debug: not at info, where any client could fill the log with it.
  auto first = text.find("protobuf: ");
  REQUIRE(first != std::string::npos);
  CHECK(text.find("invalid UTF-8", first) != std::string::npos);
  CHECK(text.find("protobuf: ", first + 1) == std::string::npos);
}

TEST_CASE("a REST handler that never answers, or drops its reply, gets 503 with Retry-After") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  net::edge_options opts;
  opts.server.port = 0;
  opts.server.answer_timeout = 300ms;
  opts.auth.jwt_secret = secret;
  net::server srv{opts, sys, "test-node"};
  std::mutex mtx;
  std::vector<net::responder> held;  // answered by nobody until the test says so
  srv.routes().add("GET", "/never", [&](net::http_request&, net::responder respond) {
    std::lock_guard<std::mutex> guard{mtx};
    held.push_back(std::move(respond));
  });
  srv.routes().add("GET", "/dropped", [](net::http_request&, net::responder) {
    // The reply path is lost (say, a message an actor never got): the client still hears.
  });
  srv.routes().add("GET", "/slow", [&](net::http_request& req, net::responder respond) {
    req.answer_within += 2000ms;  // a long poll extends its own deadline
    std::thread{[respond = std::move(respond)] {
      std::this_thread::sleep_for(500ms);
      respond(net::http_response::json(200, R"({"late":"but in time"})"));
    }}.detach();
  });
  REQUIRE_FALSE(srv.start());

  auto never = test::http_call(srv.port(), "GET", "/never");
  CHECK(never.status == 503);
  CHECK(never.headers["retry-after"] == "1");
  CHECK(never.body.find("\"code\":\"unavailable\"") != std::string::npos);
  // The handler's late answer is dropped: the client had exactly one.
  {
    std::lock_guard<std::mutex> guard{mtx};
    REQUIRE(held.size() == 1);
    CHECK_FALSE(held[0].answer(net::http_response::json(200, "{}")));
  }
  auto dropped = test::http_call(srv.port(), "GET", "/dropped");
  CHECK(dropped.status == 503);
  CHECK(dropped.headers["retry-after"] == "1");
  auto slow = test::http_call(srv.port(), "GET", "/slow");
  CHECK(slow.status == 200);
  CHECK(slow.body == R"({"late":"but in time"})");
  srv.stop();
}

TEST_CASE("/readyz turns 503 the moment the ready check fails, without a new set_ready") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  net::edge_options opts;
  opts.server.port = 0;
  opts.auth.jwt_secret = secret;
  net::server srv{opts, sys, "test-node"};
  // In a cluster: the write fence, which closes with time alone (a lease renewal too old).
  std::atomic<bool> fence_open{true};
  srv.context().ready_check = [&fence_open] { return fence_open.load(); };
  net::add_ops_routes(srv.context());
  REQUIRE_FALSE(srv.start());
  srv.set_ready(true);
  CHECK(test::http_call(srv.port(), "GET", "/readyz").status == 200);
  fence_open = false;
  CHECK(test::http_call(srv.port(), "GET", "/readyz").status == 503);
  fence_open = true;
  CHECK(test::http_call(srv.port(), "GET", "/readyz").status == 200);
  srv.stop();
}
