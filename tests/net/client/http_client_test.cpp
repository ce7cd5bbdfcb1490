// The one outbound HTTP client against a real socket on loopback: targets under a base path,
// extra headers, cut bodies, the allow list checked on the resolved addresses, the deadline,
// and streamed bodies read piece by piece.
#include "net/client/http_client.hpp"
#include "net/http_allow.hpp"
#include "support/one_shot_server.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace parley::net;
using namespace parley::net::client;
using parley::test::chunked_answer;
using parley::test::http_answer;
using parley::test::one_shot_server;
using namespace std::chrono_literals;

namespace {

// 127.0.0.1 at `port`, asking for `path` (parse_http_url is tested in url_test.cpp).
http_url loopback(const std::string& port, const std::string& path = "") {
  return http_url{"127.0.0.1", port, true, path};
}

} // namespace

TEST_CASE("a request goes to the target under the base path, with the extra headers") {
  one_shot_server server{http_answer("{\"ok\":true}")};
  http_client_options opts;
  opts.token = "t0k";
  http_client client{loopback(server.port(), "/prefix/"), opts};
  http_request req;
  req.target = "/api/v1/x";
  req.body = "{}";
  req.headers = {{"X-Parley-Task-Id", "42"}};
  auto res = client.request(req);
  INFO(res.describe());
  CHECK(res.success());
  CHECK(res.body == "{\"ok\":true}");
  auto seen = server.request();
  CHECK(seen.rfind("POST /prefix/api/v1/x HTTP/1.1\r\n", 0) == 0);
  CHECK(seen.find("\r\nHost: 127.0.0.1:" + server.port() + "\r\n") != std::string::npos);
  CHECK(seen.find("\r\nAuthorization: Bearer t0k\r\n") != std::string::npos);
  CHECK(seen.find("\r\nX-Parley-Task-Id: 42\r\n") != std::string::npos);
  CHECK(seen.find("\r\nUser-Agent: parley-tools\r\n") != std::string::npos);
}

TEST_CASE("an empty target asks for the URL itself") {
  one_shot_server server{http_answer("")};
  http_client client{loopback(server.port(), "/hook?a=1"), {}};
  http_request req;
  CHECK(client.request(req).status == 200);
  CHECK(server.request().rfind("POST /hook?a=1 HTTP/1.1\r\n", 0) == 0);
}

TEST_CASE("a body over the limit is an answer all the same, cut there") {
  one_shot_server server{http_answer(std::string(5000, 'x'))};
  http_client_options opts;
  opts.body_limit_bytes = 100;
  http_client client{loopback(server.port()), opts};
  auto res = client.get("/big");
  CHECK(res.status == 200);
  CHECK(res.body_cut);
  CHECK(res.body.size() <= 100);
}

TEST_CASE("the allow list is checked on the resolved addresses before any connection") {
  one_shot_server server{http_answer("")};
  std::string error;
  auto names_only = http_allow_list::parse({"localhost"}, error);
  REQUIRE(names_only);
  http_client_options opts;
  opts.allow = &*names_only;
  auto named = loopback(server.port());
  named.host = "localhost";
  http_client refused{named, opts};
  auto res = refused.get("/");
  CHECK(res.refused);
  CHECK(res.error.find("loopback") != std::string::npos);
  // The address itself admits it.
  auto address = http_allow_list::parse({"127.0.0.1"}, error);
  REQUIRE(address);
  opts.allow = &*address;
  http_client admitted{loopback(server.port()), opts};
  CHECK(admitted.get("/").status == 200);
}

TEST_CASE("a silent server runs into the request's deadline") {
  one_shot_server server{""};
  http_client client{loopback(server.port()), {}};
  auto started = std::chrono::steady_clock::now();
  auto res = client.post("/", "{}", 300ms);
  CHECK(res.timed_out);
  CHECK(res.error == "read: timed out");
  CHECK(std::chrono::steady_clock::now() - started < 1200ms);
}

// -- streamed bodies --------------------------------------------------------------------------

TEST_CASE("a streamed body reaches the caller piece by piece as it arrives") {
  one_shot_server server{chunked_answer({"first\n", "second\n", "third\n"}), 150ms};
  http_client client{loopback(server.port()), {}};
  std::vector<std::string> pieces;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  auto res = client.stream({"POST", "/watch", "{}", {}}, [&](std::string_view piece) {
    pieces.emplace_back(piece);
    arrivals.push_back(std::chrono::steady_clock::now());
    return true;
  });
  INFO(res.describe());
  CHECK(res.success());
  CHECK(res.body.empty());
  std::string joined;
  for (auto& p : pieces)
    joined += p;
  CHECK(joined == "first\nsecond\nthird\n");
  // Handed over as they came, not once the body was complete.
  REQUIRE(pieces.size() >= 3);
  CHECK(arrivals.back() - arrivals.front() >= 250ms);
}

TEST_CASE("a stream the caller stops is closed at once") {
  one_shot_server server{chunked_answer({"first\n", "never read\n"}), 800ms};
  http_client client{loopback(server.port()), {}};
  auto started = std::chrono::steady_clock::now();
  std::string seen;
  auto res = client.stream({"POST", "/watch", "{}", {}}, [&](std::string_view piece) {
    seen += piece;
    return false;
  });
  CHECK(res.ok());
  CHECK(res.status == 200);
  CHECK(seen == "first\n");
  CHECK(std::chrono::steady_clock::now() - started < 600ms);
}

TEST_CASE("a stream that outlives its deadline times out with its status known") {
  one_shot_server server{chunked_answer({"first\n", "too late\n"}), 800ms};
  http_client client{loopback(server.port()), {}};
  std::string seen;
  auto res = client.stream({"POST", "/watch", "{}", {}}, [&](std::string_view piece) {
    seen += piece;
    return true;
  }, 300ms);
  CHECK(res.timed_out);
  CHECK(res.status == 200);
  CHECK(seen == "first\n");
}

TEST_CASE("a stream another thread aborts ends with aborted") {
  one_shot_server server{chunked_answer({"first\n", "too late\n"}), 800ms};
  http_client client{loopback(server.port()), {}};
  std::atomic<bool> abort{false};
  client.set_abort_flag(&abort);
  auto res = client.stream({"POST", "/watch", "{}", {}}, [&](std::string_view) {
    abort = true;  // as another thread would; the client notices within about 50 ms
    return true;
  });
  CHECK(res.error == "aborted");
  CHECK(res.status == 200);
}

TEST_CASE("a streamed request answered with an error status is read whole into the body") {
  one_shot_server server{http_answer("{\"error\":\"nope\"}", 404)};
  http_client client{loopback(server.port()), {}};
  bool called = false;
  auto res = client.stream({"POST", "/watch", "{}", {}}, [&](std::string_view) {
    called = true;
    return true;
  });
  CHECK(res.status == 404);
  CHECK(res.body == "{\"error\":\"nope\"}");
  CHECK_FALSE(called);
}
