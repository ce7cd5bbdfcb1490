// The URL shortener through real HTTP on a real node: every links endpoint of PROTOCOL.md,
// redirects, statistics, and the bad inputs around them.
#include "support/eventually.hpp"
#include "support/running_node.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <set>
#include <thread>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;

namespace {

http_result create(running_node& node, const std::string& token, const std::string& body) {
  return http_call(node.port(), "POST", "/api/v1/urls", body, bearer(token));
}

pb::Link create_ok(running_node& node, const std::string& token, const std::string& body) {
  auto res = create(node, token, body);
  INFO(res.body);
  REQUIRE(res.status == 201);
  return parse_json<pb::Link>(res.body);
}

} // namespace

TEST_CASE("a link is created with a random key and redirects with 302 by default") {
  running_node node;
  auto alice = dev_token(node.port(), "alice");
  auto link = create_ok(node, alice, R"({"long_url":"https://example.com/a?b=1"})");
  CHECK(link.key().size() == 7);
  CHECK(link.long_url() == "https://example.com/a?b=1");
  CHECK(link.redirect() == 302);
  // Built from the request's Host header (the test client sends the address without a port).
  CHECK(link.short_url() == "http://127.0.0.1/" + link.key());
  CHECK_FALSE(link.has_expires_at());
  auto hop = http_call(node.port(), "GET", "/" + link.key());
  CHECK(hop.status == 302);
  CHECK(hop.headers["location"] == "https://example.com/a?b=1");
  auto head = http_call(node.port(), "HEAD", "/" + link.key());
  CHECK(head.status == 302);
  CHECK(head.headers["location"] == "https://example.com/a?b=1");
  auto got = http_call(node.port(), "GET", "/api/v1/urls/" + link.key(), {}, bearer(alice));
  REQUIRE(got.status == 200);
  CHECK(parse_json<pb::Link>(got.body).long_url() == "https://example.com/a?b=1");
}

TEST_CASE("custom aliases redirect with 301 when asked, and a taken alias is a conflict") {
  running_node node;
  auto alice = dev_token(node.port(), "alice");
  auto link = create_ok(node, alice,
                        R"({"long_url":"https://example.com/x","custom_alias":"promo-2026","redirect":301})");
  CHECK(link.key() == "promo-2026");
  auto hop = http_call(node.port(), "GET", "/promo-2026");
  CHECK(hop.status == 301);
  CHECK(hop.headers["location"] == "https://example.com/x");
  auto again = create(node, dev_token(node.port(), "bob"),
                      R"({"long_url":"https://example.com/y","custom_alias":"promo-2026"})");
  CHECK(again.status == 409);
  CHECK(again.body.find("\"conflict\"") != std::string::npos);
}

TEST_CASE("bad link requests are refused with a clear 4xx and store nothing") {
  running_node node;
  auto alice = dev_token(node.port(), "alice");
  struct bad_case {
    std::string body;
    int status;
    std::string says;
  };
  std::vector<bad_case> cases = {
    {R"({"long_url":"ftp://example.com/f"})", 400, "http or https"},
    {R"({"long_url":"example.com"})", 400, "absolute"},
    {R"({"long_url":"https://"})", 400, "no host"},
    {R"({"long_url":"https://example.com/\r\nLocation: https://evil.example"})", 400, "control"},
    {R"({"long_url":"https://example.com/a b"})", 400, "spaces"},
    {R"({"long_url":"https://example.com/)" + std::string(2100, 'p') + R"("})", 400, "2048"},
    {R"({})", 400, "long_url is required"},
    {R"({"long_url":"https://example.com","custom_alias":"api"})", 400, "reserved"},
    {R"({"long_url":"https://example.com","custom_alias":"healthz"})", 400, "reserved"},
    {R"({"long_url":"https://example.com","custom_alias":"Metrics"})", 400, "reserved"},
    {R"({"long_url":"https://example.com","custom_alias":"x"})", 400, "custom_alias must match"},
    {R"({"long_url":"https://example.com","custom_alias":"a/b/c"})", 400, "custom_alias must match"},
    {R"({"long_url":"https://example.com","redirect":307})", 400, "redirect must be"},
    {R"({"long_url":"https://example.com","ttl":-5})", 400, "ttl"},
    {R"({"long_url":"https://example.com")", 400, "bad_request"},
    {"\xff\xfe{\"long_url\":1}", 400, "bad_request"},
  };
  for (auto& c : cases) {
    auto res = create(node, alice, c.body);
    INFO(c.body << " -> " << res.body);
    CHECK(res.status == c.status);
    CHECK(res.body.find(c.says) != std::string::npos);
  }
  // Non-UTF-8 bytes inside the JSON string.
  auto raw = create(node, alice, "{\"long_url\":\"https://example.com/\xc3\x28\"}");
  CHECK(raw.status == 400);
  CHECK(create(node, "not-a-token", R"({"long_url":"https://example.com"})").status == 401);
  CHECK(http_call(node.port(), "POST", "/api/v1/urls", R"({"long_url":"https://example.com"})")
          .status
        == 401);
}

TEST_CASE("unknown keys are 404, expired links 410, and a deleted key stays unused") {
  running_node node;
  auto alice = dev_token(node.port(), "alice");
  CHECK(http_call(node.port(), "GET", "/NoSuch1").status == 404);
  CHECK(http_call(node.port(), "GET", "/not.a.key").status == 404);
  CHECK(http_call(node.port(), "GET", "/api/v1/urls/NoSuch1", {}, bearer(alice)).status == 404);
  auto brief = create_ok(node, alice, R"({"long_url":"https://example.com/brief","ttl":1})");
  REQUIRE(brief.has_expires_at());
  CHECK(http_call(node.port(), "GET", "/" + brief.key()).status == 302);
  // The ttl runs on the node's wall clock: wait until it has passed there.
  CHECK(eventually([&] { return http_call(node.port(), "GET", "/" + brief.key()).status == 410; }));
  CHECK(http_call(node.port(), "GET", "/api/v1/urls/" + brief.key(), {}, bearer(alice)).status
        == 410);
  create_ok(node, alice, R"({"long_url":"https://example.com/old","custom_alias":"gone-soon"})");
  CHECK(http_call(node.port(), "GET", "/gone-soon").status == 302);  // now cached
  auto bob = dev_token(node.port(), "bob");
  CHECK(http_call(node.port(), "DELETE", "/api/v1/urls/gone-soon", {}, bearer(bob)).status == 403);
  CHECK(http_call(node.port(), "DELETE", "/api/v1/urls/gone-soon", {}, bearer(alice)).status
        == 204);
  CHECK(http_call(node.port(), "GET", "/gone-soon").status == 404);
  CHECK(http_call(node.port(), "DELETE", "/api/v1/urls/gone-soon", {}, bearer(alice)).status
        == 404);
  // The key of a deleted link is never handed out again.
  CHECK(create(node, alice, R"({"long_url":"https://example.com/new","custom_alias":"gone-soon"})")
          .status
        == 409);
  // An admin may delete anyone's link.
  auto other = create_ok(node, bob, R"({"long_url":"https://example.com/bob"})");
  CHECK(http_call(node.port(), "DELETE", "/api/v1/urls/" + other.key(), {}, bearer(signed_token("root", "admin")))
          .status
        == 204);
}

TEST_CASE("expired links are purged in the background and still answer 410") {
  running_node node{{"links.purge_interval_sec=1"}};
  auto alice = dev_token(node.port(), "alice");
  auto brief = create_ok(node, alice, R"({"long_url":"https://example.com/brief","ttl":1})");
  CHECK(eventually([&] { return metric_value(node, "parley_links_expired_purged_total") >= 1; }));
  CHECK(http_call(node.port(), "GET", "/" + brief.key()).status == 410);
  CHECK(create(node, alice,
               R"({"long_url":"https://example.com/x","custom_alias":")" + brief.key() + "\"}")
          .status
        == 409);
}

TEST_CASE("click statistics count clicks, referrers and devices once the aggregator flushes") {
  running_node node;
  auto alice = dev_token(node.port(), "alice");
  auto link = create_ok(node, alice, R"({"long_url":"https://example.com/s"})");
  auto path = "/" + link.key();
  for (int i = 0; i < 3; ++i)
    http_call(node.port(), "GET", path, {},
              {{"Referer", "https://news.example.com/item?id=" + std::to_string(i)},
               {"User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148"}});
  http_call(node.port(), "GET", path, {},
            {{"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120"}});
  http_call(node.port(), "HEAD", path, {}, {{"User-Agent", "Googlebot/2.1"}});
  pb::LinkStats stats;
  http_result res;
  CHECK(eventually([&] {
    res = http_call(node.port(), "GET", "/api/v1/urls/" + link.key() + "/stats", {},
                    bearer(alice));
    REQUIRE(res.status == 200);
    stats = parse_json<pb::LinkStats>(res.body);
    return stats.clicks() >= 5;
  }));
  CHECK(stats.key() == link.key());
  CHECK(stats.clicks() == 5);
  CHECK(stats.has_last_accessed());
  CHECK(stats.devices().mobile() == 3);
  CHECK(stats.devices().desktop() == 1);
  CHECK(stats.devices().bot() == 1);
  CHECK(stats.devices().other() == 0);
  REQUIRE(stats.referrers_size() == 2);
  CHECK(stats.referrers(0).referrer() == "news.example.com");
  CHECK(stats.referrers(0).clicks() == 3);
  CHECK(stats.referrers(1).referrer() == "direct");
  // Zero counts are printed, not omitted.
  CHECK(res.body.find("\"other\":") != std::string::npos);
  CHECK(http_call(node.port(), "GET", "/api/v1/urls/NoSuch1/stats", {}, bearer(alice)).status
        == 404);
}

TEST_CASE("a stalled analytics pipeline never slows or breaks redirects") {
  // The aggregator flushes once an hour and its queue holds 4 clicks: everything past the
  // fourth click is dropped and counted, and every redirect is still answered at once.
  running_node node{{"links.click_queue_capacity=4", "links.stats_flush_ms=3600000"}};
  auto alice = dev_token(node.port(), "alice");
  auto link = create_ok(node, alice, R"({"long_url":"https://example.com/fast"})");
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    auto res = http_call(node.port(), "GET", "/" + link.key());
    REQUIRE(res.status == 302);
    REQUIRE(res.headers["location"] == "https://example.com/fast");
  }
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 10s);  // a guard against blocking forever, not a benchmark
  CHECK(metric_value(node, "parley_links_clicks_dropped_total") >= 196);
}

TEST_CASE("keys are never handed out twice, across restarts") {
  temp_dir dir;
  std::set<std::string> keys;
  for (int round = 0; round < 2; ++round) {
    running_node node{dir.path(), {"links.key_batch=16"}};
    auto alice = dev_token(node.port(), "alice");
    for (int i = 0; i < 40; ++i) {
      auto link = create_ok(node, alice, R"({"long_url":"https://example.com/)" + std::to_string(i)
                                           + "\"}");
      CHECK(keys.insert(link.key()).second);
    }
  }
  CHECK(keys.size() == 80);
}

TEST_CASE("links survive a restart") {
  temp_dir dir;
  std::string key;
  {
    running_node node{dir.path(), {}};
    key = create_ok(node, dev_token(node.port(), "alice"),
                    R"({"long_url":"https://example.com/durable"})")
            .key();
  }
  running_node node{dir.path(), {}};
  auto hop = http_call(node.port(), "GET", "/" + key);
  CHECK(hop.status == 302);
  CHECK(hop.headers["location"] == "https://example.com/durable");
}

TEST_CASE("clicks still queued when the node stops are stored, not lost") {
  temp_dir dir;
  std::string key, token;
  {
    // An hour between flushes: only the shutdown's drain can store these clicks.
    running_node node{dir.path(), {"links.stats_flush_ms=3600000"}};
    token = dev_token(node.port(), "alice");
    key = create_ok(node, token, R"({"long_url":"https://example.com/drain"})").key();
    for (int i = 0; i < 3; ++i)
      REQUIRE(http_call(node.port(), "GET", "/" + key).status == 302);
  }
  running_node node{dir.path(), {}};
  auto res = http_call(node.port(), "GET", "/api/v1/urls/" + key + "/stats", {},
                       bearer(dev_token(node.port(), "alice")));
  REQUIRE(res.status == 200);
  CHECK(parse_json<pb::LinkStats>(res.body).clicks() == 3);
}
