// The one URL parser: task destinations and the tools' base URLs with a path prefix.
#include "net/client/url.hpp"

#include <catch2/catch.hpp>

using namespace parley::net::client;

namespace {

http_url parsed(const std::string& text) {
  http_url url;
  std::string error;
  INFO(text);
  REQUIRE(parse_http_url(text, url, error));
  return url;
}

std::string refusal(const std::string& text) {
  http_url url;
  std::string error;
  CHECK_FALSE(parse_http_url(text, url, error));
  return error;
}

} // namespace

TEST_CASE("a URL gives host, port and path as written") {
  auto plain = parsed("http://example.com");
  CHECK(plain.host == "example.com");
  CHECK(plain.port == "80");
  CHECK_FALSE(plain.explicit_port);
  CHECK(plain.path.empty());
  auto full = parsed("http://127.0.0.1:8080/hook?a=1#frag");
  CHECK(full.host == "127.0.0.1");
  CHECK(full.port == "8080");
  CHECK(full.explicit_port);
  CHECK(full.path == "/hook?a=1");
  auto v6 = parsed("http://[::1]:9000/x");
  CHECK(v6.host == "::1");
  CHECK(v6.port == "9000");
  CHECK(parsed("http://[fd00::1]/").port == "80");
  CHECK(parsed("http://h?q=1").path == "/?q=1");
}

TEST_CASE("the Host header carries the port only when the URL wrote one") {
  CHECK(host_header(parsed("http://example.com/x")) == "example.com");
  CHECK(host_header(parsed("http://example.com:80/x")) == "example.com:80");
  CHECK(host_header(parsed("http://[::1]:8080/")) == "[::1]:8080");
}

TEST_CASE("one rule serves a full URL and a base URL with a path prefix") {
  // A task's URL is asked for itself.
  CHECK(request_target(parsed("http://h/hook?a=1"), "") == "/hook?a=1");
  CHECK(request_target(parsed("http://h"), "") == "/");
  // A base URL puts its path before every request target, trailing slashes or not.
  CHECK(request_target(parsed("http://h"), "/api/v1/tasks") == "/api/v1/tasks");
  CHECK(request_target(parsed("http://h/"), "/api/v1/tasks") == "/api/v1/tasks");
  CHECK(request_target(parsed("http://h/parley"), "/api/v1/tasks") == "/parley/api/v1/tasks");
  CHECK(request_target(parsed("http://h/parley//"), "/api/v1/tasks") == "/parley/api/v1/tasks");
}

TEST_CASE("URLs that are not plain http, or could smuggle a header, are refused naming why") {
  CHECK(refusal("https://example.com/").find("https") != std::string::npos);
  CHECK(refusal("ftp://example.com/x").find("not an http") != std::string::npos);
  CHECK(refusal("example.com:8080").find("not an http") != std::string::npos);
  CHECK(refusal("http://h/x HTTP/1.1\r\nX-Evil: 1").find("control") != std::string::npos);
  CHECK(refusal("http://h/\x7f").find("control") != std::string::npos);
  CHECK(refusal("http://user:pw@h/").find("user info") != std::string::npos);
  CHECK(refusal("http:///path").find("no host") != std::string::npos);
  CHECK(refusal("http://:80/").find("no host") != std::string::npos);
  for (auto bad : {"http://h:/", "http://h:0/", "http://h:65536/", "http://h:123456/",
                   "http://h:8a/"})
    CHECK(refusal(bad).find("bad port") != std::string::npos);
  CHECK(refusal("http://[::1/").find("IPv6") != std::string::npos);
  CHECK(refusal("http://[::1]x/").find("IPv6") != std::string::npos);
  CHECK_FALSE(refusal("http://::1/").empty());  // IPv6 needs its brackets
}

TEST_CASE("a path segment is percent-encoded but for unreserved characters") {
  CHECK(url_encode_segment("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(url_encode_segment("a/b c?") == "a%2Fb%20c%3F");
  CHECK(url_encode_segment("\xC3\xA9") == "%C3%A9");
}
