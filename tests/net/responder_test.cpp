// The REST reply path: a move-only responder answers exactly once, the first answer wins, and one
// dropped unanswered answers 503 with Retry-After; the session's weak handle never keeps it alive.
#include "net/http_types.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <type_traits>
#include <vector>

using namespace parley::net;

static_assert(!std::is_copy_constructible_v<responder> && !std::is_copy_assignable_v<responder>,
              "a responder has one owner: it moves, it is never copied");
static_assert(std::is_nothrow_move_constructible_v<responder>
                && std::is_nothrow_move_assignable_v<responder>,
              "a responder is handed along by std::move");

namespace {

// A responder whose answers land in `out`.
responder recording(std::vector<http_response>& out) {
  return responder{[&out](http_response res) { out.push_back(std::move(res)); }};
}

} // namespace

TEST_CASE("a responder answers once: the first answer wins, later ones are dropped") {
  std::vector<http_response> got;
  auto respond = recording(got);
  CHECK_FALSE(respond.answered());
  CHECK(respond.answer(http_response::json(200, "{}")));
  respond(http_response::json(500, "{}"));
  CHECK_FALSE(respond.answer(http_response::json(201, "{}")));
  CHECK(respond.answered());
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 200);
}

TEST_CASE("a responder dropped unanswered answers 503 unavailable with Retry-After") {
  std::vector<http_response> got;
  {
    auto respond = recording(got);
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 503);
  CHECK(got[0].body.find("\"code\":\"unavailable\"") != std::string::npos);
  REQUIRE(got[0].headers.size() == 1);
  CHECK(got[0].headers[0] == std::pair<std::string, std::string>{"Retry-After", "1"});
}

TEST_CASE("a moved responder answers through its new owner only, once") {
  std::vector<http_response> got;
  auto first = recording(got);
  auto second = std::move(first);
  CHECK_FALSE(first);  // NOLINT(bugprone-use-after-move): what is left behind is empty
  CHECK_FALSE(first.answer(http_response::json(200, "{}")));
  {
    auto third = std::move(second);
    third(http_response::json(202, "{}"));
  }
  REQUIRE(got.size() == 1);  // no 503 from any of the three
  CHECK(got[0].status == 202);
}

TEST_CASE("assigning over an unanswered responder drops it: its client gets the 503") {
  std::vector<http_response> old_client;
  std::vector<http_response> new_client;
  auto respond = recording(old_client);
  respond = recording(new_client);
  REQUIRE(old_client.size() == 1);
  CHECK(old_client[0].status == 503);
  respond(http_response::json(200, "{}"));
  REQUIRE(new_client.size() == 1);
  CHECK(new_client[0].status == 200);
}

TEST_CASE("a released responder goes without answering, and the weak handle sees it answered") {
  std::vector<http_response> got;
  auto respond = recording(got);
  auto watch = respond.watch();
  CHECK(watch.pending());
  respond.release();
  CHECK_FALSE(watch.pending());
  respond = responder{};
  CHECK(got.empty());
}

TEST_CASE("the weak handle answers (the session's deadline) while the responder is unanswered") {
  std::vector<http_response> got;
  auto respond = recording(got);
  auto deadline = respond.watch();
  CHECK(deadline.answer(http_response::json(503, "{}")));
  CHECK_FALSE(deadline.pending());
  CHECK_FALSE(respond.answer(http_response::json(200, "{}")));  // the handler is too late
  respond = responder{};
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 503);
  CHECK_FALSE(deadline.answer(http_response::json(504, "{}")));  // gone: answers nothing
}

TEST_CASE("a responder may deliver through another one (a move-only reply path)") {
  std::vector<http_response> got;
  auto inner = recording(got);
  responder outer{[inner = std::move(inner)](http_response res) {
    res.headers.emplace_back("X-Added", "1");
    inner(std::move(res));
  }};
  {
    auto dropped = std::move(outer);  // dropped unanswered: the 503 goes through `inner`
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 503);
  CHECK(got[0].headers.back().first == "X-Added");
}
