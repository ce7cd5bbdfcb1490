// An ask's two callbacks made by answer_with: whichever runs answers the request's one responder
// (rendered, or the error's public code), and if neither runs the request still gets its 503.
#include "net/actor_answers.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace parley;
using namespace parley::net;

namespace {

responder recording(std::vector<http_response>& out) {
  return responder{[&out](http_response res) { out.push_back(std::move(res)); }};
}

auto render_text(int status) {
  return [status](const std::string& text) { return http_response::json(status, text); };
}

} // namespace

TEST_CASE("the reply handler of answer_with renders the actor's reply into the one answer") {
  std::vector<http_response> got;
  {
    auto [on_reply, on_error] = answer_with(recording(got), render_text(201));
    auto again = on_reply;  // an ask may copy the reply handler to send again after a bounce
    on_reply(std::string{R"({"a":1})"});
    caf::error late = caf::make_error(caf::sec::request_timeout);
    on_error(late);  // too late: the first answer won
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 201);
  CHECK(got[0].body == R"({"a":1})");
}

TEST_CASE("the error handler of answer_with answers the failure, rendered by render_error") {
  std::vector<http_response> got;
  auto teapot = [](const fault& f) { return http_response::json(418, f.message); };
  {
    auto [on_reply, on_error] = answer_with(recording(got), render_text(200), teapot);
    auto err = make_error(errc::conflict, "taken");
    on_error(err);
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 418);
  CHECK(got[0].body == "taken");
}

TEST_CASE("an ask that runs neither callback still answers: 503 once both are gone") {
  std::vector<http_response> got;
  {
    auto callbacks = answer_with(recording(got), render_text(200));
    auto reply_copy = callbacks.first;
    (void)reply_copy;
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 503);
}
