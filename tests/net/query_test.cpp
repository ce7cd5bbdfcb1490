#include "net/http_session.hpp"

#include <catch2/catch.hpp>

using namespace parley::net;

TEST_CASE("query strings are split and percent-decoded") {
  auto q = parse_query("token=a%2Eb&encoding=binary&flag&x=1+2");
  CHECK(q["token"] == "a.b");
  CHECK(q["encoding"] == "binary");
  CHECK(q.count("flag") == 1);
  CHECK(q["x"] == "1 2");
}

TEST_CASE("paths keep plus signs and bad escapes literally") {
  CHECK(url_decode("/a+b/%41%zz%4", false) == "/a+b/A%zz%4");
}
