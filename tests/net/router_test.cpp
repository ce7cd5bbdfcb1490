#include "net/router.hpp"

#include <catch2/catch.hpp>

using namespace parley::net;

namespace {

http_response route(const router& r, std::string method, std::string path) {
  http_request req;
  req.method = std::move(method);
  req.path = std::move(path);
  http_response out;
  r.dispatch(req, [&](http_response res) { out = std::move(res); });
  return out;
}

} // namespace

TEST_CASE("routes match literal segments and capture {params}") {
  router r;
  r.add("GET", "/api/v1/tasks/{id}", [](http_request& req, responder respond) {
    respond(http_response::json(200, req.params.at("id")));
  });
  CHECK(route(r, "GET", "/api/v1/tasks/abc").body == "abc");
  CHECK(route(r, "HEAD", "/api/v1/tasks/abc").status == 200);
  CHECK(route(r, "GET", "/api/v1/tasks").status == 404);
  CHECK(route(r, "GET", "/api/v1/tasks/abc/runs").status == 404);
}

TEST_CASE("a known path with another method is 405, an unknown one 404 in the error model") {
  router r;
  r.add("GET", "/healthz", [](http_request&, responder respond) {
    respond(http_response::json(200, "{}"));
  });
  r.add("PUT", "/healthz", [](http_request&, responder respond) {
    respond(http_response::json(200, "{}"));
  });
  auto wrong = route(r, "POST", "/healthz");
  CHECK(wrong.status == 405);
  CHECK(wrong.body.find(R"("code":"method_not_allowed")") != std::string::npos);
  REQUIRE(wrong.headers.size() == 1);
  CHECK(wrong.headers[0].first == "Allow");
  CHECK(wrong.headers[0].second == "GET, HEAD, PUT");
  auto missing = route(r, "GET", "/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body.find(R"("code":"not_found")") != std::string::npos);
}

TEST_CASE("the fallback takes unmatched paths and reserved segments come from the routes") {
  router r;
  r.add("GET", "/api/v1/x", [](http_request&, responder respond) {
    respond(http_response::json(200, ""));
  });
  r.add("GET", "/metrics", [](http_request&, responder respond) {
    respond(http_response::json(200, ""));
  });
  r.set_fallback([](http_request& req, responder respond) {
    respond(http_response::json(302, req.path));
  });
  CHECK(route(r, "GET", "/abc1234").status == 302);
  CHECK(r.reserved_segments() == std::set<std::string>{"api", "metrics"});
}
