#include "net/http_reader.hpp"

#include <catch2/catch.hpp>

using namespace parley::net;
using outcome = http_reader::outcome;

namespace {

http_reader reader(size_t head_bytes = 8 << 10, size_t body_bytes = 1 << 20) {
  return http_reader{http_reader::limits{head_bytes, body_bytes}};
}

const std::string redirect = "GET /mKgXLwH?src=mail HTTP/1.1\r\nHost: x\r\n"
                             "User-Agent: curl/7.88\r\nReferer: https://a.example/\r\n\r\n";

const std::string check_body = R"({"rule":"api","key":"u1"})";
const std::string check = "POST /api/v1/ratelimit/check HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer t.o.k\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(check_body.size()) + "\r\n\r\n"
                          + check_body;

// `out` views `data`: callers keep it alive while they look.
outcome read(std::string_view data, lean_request& out) {
  return reader().read(data, out);
}

outcome read(std::string_view data) {
  lean_request out;
  return read(data, out);
}

} // namespace

TEST_CASE("a redirect request is read with its target, lower-case headers and no body") {
  lean_request req;
  REQUIRE(read(redirect, req) == outcome::done);
  CHECK(req.method == "GET");
  CHECK(req.target == "/mKgXLwH?src=mail");
  CHECK(req.version == 11);
  CHECK(req.keep_alive);
  CHECK(req.body.empty());
  CHECK(req.size == redirect.size());
  REQUIRE(req.headers.size() == 3);
  CHECK(req.headers[0] == std::pair<std::string, std::string>{"host", "x"});
  CHECK(req.headers[1] == std::pair<std::string, std::string>{"user-agent", "curl/7.88"});
  CHECK(req.headers[2].first == "referer");
}

TEST_CASE("a check request is read with its Content-Length body") {
  lean_request req;
  REQUIRE(read(check, req) == outcome::done);
  CHECK(req.method == "POST");
  CHECK(req.body == check_body);
  CHECK(req.size == check.size());
  CHECK(req.headers[1] == std::pair<std::string, std::string>{"authorization", "Bearer t.o.k"});
}

TEST_CASE("a request cut anywhere needs more until its last byte has arrived") {
  for (auto* whole : {&redirect, &check}) {
    for (size_t cut = 0; cut < whole->size(); ++cut) {
      INFO("cut at " << cut << " of " << *whole);
      CHECK(read(whole->substr(0, cut)) == outcome::need_more);
    }
    CHECK(read(*whole) == outcome::done);
  }
}

TEST_CASE("pipelined requests are read one at a time, each ending where the next begins") {
  auto three = check + redirect + "GET /other HTTP/1.1\r\n\r\n";
  std::string_view rest = three;
  lean_request req;
  REQUIRE(reader().read(rest, req) == outcome::done);
  CHECK(req.body == check_body);
  rest.remove_prefix(req.size);
  REQUIRE(reader().read(rest, req) == outcome::done);
  CHECK(req.target == "/mKgXLwH?src=mail");
  rest.remove_prefix(req.size);
  REQUIRE(reader().read(rest, req) == outcome::done);
  CHECK(req.target == "/other");
  CHECK(req.headers.empty());
  CHECK(req.size == rest.size());
}

TEST_CASE("keep-alive follows HTTP/1.1 and HTTP/1.0 Connection semantics") {
  lean_request req;
  REQUIRE(read("GET /k HTTP/1.0\r\n\r\n", req) == outcome::done);
  CHECK(req.version == 10);
  CHECK_FALSE(req.keep_alive);
  REQUIRE(read("GET /k HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", req) == outcome::done);
  CHECK(req.keep_alive);
  REQUIRE(read("GET /k HTTP/1.1\r\nConnection: close\r\n\r\n", req) == outcome::done);
  CHECK_FALSE(req.keep_alive);
  REQUIRE(read("GET /k HTTP/1.1\r\nconnection: TE, Close\r\n\r\n", req) == outcome::done);
  CHECK_FALSE(req.keep_alive);
  REQUIRE(read("HEAD /k HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", req) == outcome::done);
  CHECK(req.keep_alive);
  CHECK(req.method == "HEAD");
}

TEST_CASE("other routes and forms the reader does not implement are left to Beast") {
  CHECK(read("POST /api/v1/urls HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}") == outcome::fallback);
  CHECK(read("GET /static/app.js HTTP/1.1\r\n\r\n") == outcome::fallback);
  CHECK(read("GET / HTTP/1.1\r\n\r\n") == outcome::fallback);
  CHECK(read("PUT /k HTTP/1.1\r\n\r\n") == outcome::fallback);
  CHECK(read("get /k HTTP/1.1\r\n\r\n") == outcome::fallback);
  // Decided on the request line alone, before the rest of the head has arrived.
  CHECK(read("DELETE /api/v1/urls/abc HTTP/1.1\r\nHost: x") == outcome::fallback);
  CHECK(read("GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        == outcome::fallback);
  CHECK(read("POST /api/v1/ratelimit/check HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
             "2\r\n{}\r\n0\r\n\r\n")
        == outcome::fallback);
  CHECK(read("POST /api/v1/ratelimit/check HTTP/1.1\r\nExpect: 100-continue\r\n"
             "Content-Length: 2\r\n\r\n")
        == outcome::fallback);
  CHECK(read("GET /k HTTP/2.0\r\n\r\n") == outcome::fallback);
  CHECK(read("GET /k HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n") == outcome::fallback);
  CHECK(read("\r\nGET /k HTTP/1.1\r\n\r\n") == outcome::fallback);
  CHECK(read("hello\r\n\r\n") == outcome::fallback);
}

TEST_CASE("malformed requests on the lean paths are bad requests") {
  lean_request req;
  CHECK(read("GET /k HTTP/1.1\r\nno colon here\r\n\r\n", req) == outcome::bad_request);
  CHECK(req.problem == "bad header field");
  CHECK(read("GET /k HTTP/1.1\r\nBad Name: x\r\n\r\n") == outcome::bad_request);
  CHECK(read("GET /k HTTP/1.1\r\n: empty name\r\n\r\n") == outcome::bad_request);
  CHECK(read("GET /k HTTP/1.1\r\nX-A: a\nX-B: b\r\n\r\n", req) == outcome::bad_request);
  CHECK(req.problem == "bad header value");
  CHECK(read(std::string{"GET /k HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 29}) == outcome::bad_request);
  CHECK(read("GET /k\x7f HTTP/1.1\r\n\r\n", req) == outcome::bad_request);
  CHECK(req.problem == "bad request target");
  for (auto* length : {"abc", "-1", "", "1, 1", "99999999999999999999"}) {
    INFO(length);
    CHECK(read(std::string{"POST /api/v1/ratelimit/check HTTP/1.1\r\nContent-Length: "} + length
               + "\r\n\r\n")
          == outcome::bad_request);
  }
  CHECK(read("POST /api/v1/ratelimit/check HTTP/1.1\r\nContent-Length: 2\r\n"
             "Content-Length: 2\r\n\r\n{}")
        == outcome::bad_request);
}

TEST_CASE("a head past the limit is refused, also before its end has arrived") {
  auto r = reader(64, 1 << 20);
  lean_request req;
  std::string fits = "GET /k HTTP/1.1\r\nX-Pad: " + std::string(64 - 28, 'p') + "\r\n\r\n";
  REQUIRE(fits.size() == 64);
  CHECK(r.read(fits, req) == outcome::done);
  auto over = "GET /k HTTP/1.1\r\nX-Pad: " + std::string(64 - 27, 'p') + "\r\n\r\n";
  CHECK(r.read(over, req) == outcome::head_too_large);
  CHECK(r.read(over.substr(0, 63), req) == outcome::need_more);
  CHECK(r.read(over.substr(0, 64), req) == outcome::head_too_large);
  CHECK(r.read("GET /" + std::string(100, 'k'), req) == outcome::head_too_large);
}

TEST_CASE("a Content-Length past the body limit is refused before the body is read") {
  auto r = reader(8 << 10, 16);
  lean_request req;
  auto head = [](size_t n) {
    return "POST /api/v1/ratelimit/check HTTP/1.1\r\nContent-Length: " + std::to_string(n)
           + "\r\n\r\n";
  };
  CHECK(r.read(head(17), req) == outcome::body_too_large);
  CHECK(r.read(head(16), req) == outcome::need_more);
  CHECK(r.read(head(16) + std::string(16, 'b'), req) == outcome::done);
  CHECK(req.body.size() == 16);
}
