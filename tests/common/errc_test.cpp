#include "common/errc.hpp"

#include <catch2/catch.hpp>

using namespace parley;

TEST_CASE("every public error code has its PROTOCOL.md name and HTTP status") {
  CHECK(to_string(errc::bad_request) == "bad_request");
  CHECK(http_status(errc::bad_request) == 400);
  CHECK(http_status(errc::unauthorized) == 401);
  CHECK(http_status(errc::forbidden) == 403);
  CHECK(http_status(errc::not_found) == 404);
  CHECK(http_status(errc::conflict) == 409);
  CHECK(http_status(errc::gone) == 410);
  CHECK(http_status(errc::too_large) == 413);
  CHECK(to_string(errc::rate_limited) == "rate_limited");
  CHECK(http_status(errc::rate_limited) == 429);
  CHECK(http_status(errc::unavailable) == 503);
  CHECK(http_status(errc::internal) == 500);
  CHECK(to_string(errc::method_not_allowed) == "method_not_allowed");
  CHECK(http_status(errc::method_not_allowed) == 405);
}

TEST_CASE("a fault is true only when it carries a code") {
  CHECK_FALSE(fault{});
  CHECK(make_fault(errc::conflict, "x"));
}
