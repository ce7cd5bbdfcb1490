// Rate limiting through real HTTP and WebSocket on a real node: rules from a file, headers,
// 429s, the admin API, SIGHUP-style reloads, the check API and frame limits.
#include "support/running_node.hpp"

#include "net/auth.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

using namespace parley;
using namespace parley::test;

namespace {

const char* rules_toml = R"(
[[rules]]
name = "healthz-per-ip"
match = { path_prefix = "/healthz", method = "GET" }
key = "ip"
algorithm = "fixed_window"
limit = 3
window_sec = 60

[[rules]]
name = "check-api"
match = { path_prefix = "/api/v1/ratelimit/check" }
key = "user"
algorithm = "sliding_window"
limit = 1000
window_sec = 60

[[rules]]
name = "per-key-budget"
match = { path_prefix = "/nothing-matches-this" }
key = "global"
algorithm = "token_bucket"
capacity = 5
refill_per_sec = 1
tiers = { pro = { capacity = 50 } }

[[rules]]
name = "typing"
match = { frame = "typing" }
key = "user"
algorithm = "fixed_window"
limit = 2
window_sec = 60
)";

struct rules_file {
  temp_dir dir;
  std::string path = dir.path() + "/ratelimits.toml";
  explicit rules_file(const std::string& text) { write(text); }
  void write(const std::string& text) const { std::ofstream{path} << text; }
  std::string read() const {
    std::ifstream in{path};
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

// Two rule sets in JSON are the same set (maps such as tiers print in any order).
bool same_rules(const std::string& a, const std::string& b) {
  return google::protobuf::util::MessageDifferencer::Equals(parse_json<pb::RateLimitRules>(a),
                                                            parse_json<pb::RateLimitRules>(b));
}

} // namespace

TEST_CASE("limited responses carry the rate-limit headers, and past the limit 429 with Retry-After") {
  rules_file file{rules_toml};
  running_node node{{"ratelimit.rules_file=" + file.path}};
  for (int i = 0; i < 3; ++i) {
    auto res = http_call(node.port(), "GET", "/healthz");
    REQUIRE(res.status == 200);
    CHECK(res.headers["x-ratelimit-limit"] == "3");
    CHECK(res.headers["x-ratelimit-remaining"] == std::to_string(2 - i));
    CHECK(std::stoll(res.headers["x-ratelimit-reset"]) >= net::unix_now());
    CHECK(res.headers["ratelimit-policy"] == "\"healthz-per-ip\";q=3;w=60");
    CHECK(res.headers["ratelimit"].find("\"healthz-per-ip\";r=" + std::to_string(2 - i) + ";t=")
          == 0);
  }
  auto refused = http_call(node.port(), "GET", "/healthz");
  CHECK(refused.status == 429);
  CHECK(std::stoi(refused.headers["retry-after"]) >= 1);
  CHECK(refused.headers["x-ratelimit-remaining"] == "0");
  CHECK(refused.body.find("\"code\":\"rate_limited\"") != std::string::npos);
  CHECK(refused.body.find("\"retry_after_ms\"") != std::string::npos);
  // Routes no rule matches carry no headers.
  auto ready = http_call(node.port(), "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.headers.count("x-ratelimit-limit") == 0);
  auto metrics = http_call(node.port(), "GET", "/metrics").body;
  CHECK(metrics.find("parley_ratelimit_rejected_total{rule=\"healthz-per-ip\"} 1")
        != std::string::npos);
}

TEST_CASE("the admin API shows and replaces the rules, and invalid sets keep the old ones") {
  rules_file file{rules_toml};
  running_node node{{"ratelimit.rules_file=" + file.path}};
  auto admin = bearer(signed_token("root", "admin"));
  auto shown = http_call(node.port(), "GET", "/api/v1/admin/ratelimits", {}, admin);
  REQUIRE(shown.status == 200);
  CHECK(shown.body.find("\"name\":\"healthz-per-ip\"") != std::string::npos);
  CHECK(shown.body.find("\"mode\":\"enforce\"") != std::string::npos);
  CHECK(http_call(node.port(), "GET", "/api/v1/admin/ratelimits", {}, bearer(signed_token("eve")))
          .status
        == 403);
  CHECK(http_call(node.port(), "GET", "/api/v1/admin/ratelimits").status == 401);
  CHECK(http_call(node.port(), "PUT", "/api/v1/admin/ratelimits", R"({"rules":[]})",
                  bearer(signed_token("eve")))
          .status
        == 403);

  for (auto bad : {R"({"rules":[{"name":"x","match":{"path_prefix":"/"},"algorithm":"magic","limit":1,"window_sec":1}]})",
                   R"({"rules":[{"name":"x","match":{"path_prefix":"/"},"algorithm":"fixed_window","limit":0,"window_sec":1}]})",
                   R"({"rules":[{"name":"x","match":{"path_prefix":"/"},"algorithm":"fixed_window","limit":1,"window_sec":1},{"name":"x","match":{"path_prefix":"/a"},"algorithm":"fixed_window","limit":1,"window_sec":1}]})",
                   "{not json"}) {
    auto res = http_call(node.port(), "PUT", "/api/v1/admin/ratelimits", bad, admin);
    INFO(bad << " -> " << res.body);
    CHECK(res.status == 400);
  }
  CHECK(http_call(node.port(), "GET", "/api/v1/admin/ratelimits", {}, admin).body == shown.body);

  auto put = http_call(node.port(), "PUT", "/api/v1/admin/ratelimits",
                       R"({"rules":[{"name":"ready","match":{"path_prefix":"/readyz"},"key":"ip",)"
                       R"("algorithm":"sliding_log","limit":1,"window_sec":60}]})",
                       admin);
  INFO(put.body);
  REQUIRE(put.status == 200);
  CHECK(http_call(node.port(), "GET", "/readyz").status == 200);
  CHECK(http_call(node.port(), "GET", "/readyz").status == 429);
  // The old healthz rule is gone.
  for (int i = 0; i < 5; ++i)
    CHECK(http_call(node.port(), "GET", "/healthz").status == 200);
  // The file was rewritten, so a reload or a restart keeps what the admin put in force.
  auto written = file.read();
  CHECK(written.find("name = 'ready'") != std::string::npos);
  CHECK(written.find("healthz-per-ip") == std::string::npos);
}

TEST_CASE("a reload (SIGHUP) applies the edited file, and an invalid file keeps the old rules") {
  rules_file file{rules_toml};
  running_node node{{"ratelimit.rules_file=" + file.path}};
  for (int i = 0; i < 3; ++i)
    http_call(node.port(), "GET", "/healthz");
  CHECK(http_call(node.port(), "GET", "/healthz").status == 429);

  file.write("[[rules]]\nname = \"broken\"\nalgorithm = \"fixed_window\"\n");
  node.n->reload(node::node_config{});
  CHECK(http_call(node.port(), "GET", "/healthz").status == 429);  // old set still in force

  file.write("# no rules\n");
  node.n->reload(node::node_config{});
  CHECK(http_call(node.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("the check API answers for a named rule and key") {
  rules_file file{rules_toml};
  running_node node{{"ratelimit.rules_file=" + file.path}};
  auto svc = bearer(signed_token("billing-service"));
  auto check = [&](const std::string& body) {
    return http_call(node.port(), "POST", "/api/v1/ratelimit/check", body, svc);
  };
  for (int i = 0; i < 5; ++i) {
    auto res = check(R"({"rule":"per-key-budget","key":"customer-7"})");
    REQUIRE(res.status == 200);
    CHECK(res.body.find("\"allowed\":true") != std::string::npos);
    CHECK(res.body.find("\"remaining\":\"" + std::to_string(4 - i) + "\"") != std::string::npos);
  }
  auto denied = check(R"({"rule":"per-key-budget","key":"customer-7","cost":1})");
  CHECK(denied.status == 200);
  CHECK(denied.body.find("\"allowed\":false") != std::string::npos);
  CHECK(denied.body.find("\"retry_after_ms\":\"") != std::string::npos);
  CHECK(denied.body.find("\"reset_at\":\"") != std::string::npos);
  CHECK(check(R"({"rule":"per-key-budget","key":"customer-8","cost":3})").body.find(
          "\"allowed\":true")
        != std::string::npos);
  // The caller's tier applies.
  auto pro = http_call(node.port(), "POST", "/api/v1/ratelimit/check",
                       R"({"rule":"per-key-budget","key":"customer-9","cost":40})",
                       bearer(signed_token("svc", {}, "pro")));
  CHECK(pro.body.find("\"allowed\":true") != std::string::npos);

  // Each caller has its own keys: another service's customer-7 is untouched.
  auto other = http_call(node.port(), "POST", "/api/v1/ratelimit/check",
                         R"({"rule":"per-key-budget","key":"customer-7"})",
                         bearer(signed_token("search-service")));
  CHECK(other.body.find("\"allowed\":true") != std::string::npos);

  CHECK(check(R"({"rule":"no-such-rule","key":"k"})").status == 404);
  CHECK(check(R"({"rule":"per-key-budget","key":"k","cost":"x"})").status == 400);
  CHECK(check(R"({"rule":"per-key-budget","key":"k","cost":"2"})").status == 200);
  CHECK(check(R"({"rule":null,"key":"k"})").status == 400);
  CHECK(check(R"({"rule":"per-key-budget","key":true})").status == 400);
  CHECK(check(R"({"rule":"per-key-budget","key":"k","cost":99999999999999999999})").status == 400);
  CHECK(check(R"({"key":"k"})").status == 400);
  CHECK(check(R"({"rule":"per-key-budget"})").status == 400);
  CHECK(check(R"({"rule":"per-key-budget","key":"k","cost":-1})").status == 400);
  CHECK(check(R"({"rule":"per-key-budget","key":"k","cost":6})").status == 400);
  CHECK(check("[1,2").status == 400);
  CHECK(http_call(node.port(), "POST", "/api/v1/ratelimit/check",
                  R"({"rule":"per-key-budget","key":"k"})")
          .status
        == 401);
}

TEST_CASE("a rejected WebSocket frame gets rate_limited and the connection lives") {
  rules_file file{rules_toml};
  running_node node{{"ratelimit.rules_file=" + file.path}};
  chat_client ann{node, "ann"};
  auto typing = [](const std::string& id) {
    return R"({"request_id":")" + id + R"(","typing":{"conversation_id":"d:ann:ben"}})";
  };
  ann.send(typing("t1"));
  ann.send(typing("t2"));
  auto third = ann.call(typing("t3"));
  REQUIRE(third.has_error());
  CHECK(third.error().code() == "rate_limited");
  CHECK(third.error().retry_after_ms() > 0);
  auto pong = ann.call(R"({"request_id":"p1","ping":{}})");
  CHECK(pong.has_pong());
}

TEST_CASE("rules on /ws limit WebSocket connection attempts") {
  rules_file file{R"([[rules]]
name = "connects"
match = { path_prefix = "/ws" }
key = "user"
algorithm = "fixed_window"
limit = 1
window_sec = 60
)"};
  running_node node{{"ratelimit.rules_file=" + file.path}};
  auto ann = signed_token("ann");
  ws_client first;
  CHECK(first.connect(node.port(), "/ws", ann) == 101);
  CHECK(upgrade_status(node.port(), "/ws", ann) == 429);
  // Another user has their own budget.
  CHECK(upgrade_status(node.port(), "/ws", signed_token("ben")) == 101);
}

TEST_CASE("a node does not start on an invalid or missing rules file, naming it") {
  rules_file file{"[[rules]]\nname = \"x\"\nmatch = { frame = \"send\" }\nalgorithm = \"fixed_window\"\nlimit = 0\nwindow_sec = 1\n"};
  temp_dir data;
  for (auto path : {file.path, data.path() + "/missing.toml"}) {
    node::node_config cfg;
    node::apply_listen("127.0.0.1:0", cfg);
    node::apply_override("storage.data_dir=" + data.path(), cfg);
    node::apply_override("auth.jwt_secret=" + test_secret, cfg);
    node::apply_override("ratelimit.rules_file=" + path, cfg);
    node::node n{cfg};
    auto err = n.start();
    INFO(err.message);
    CHECK(err.code == errc::bad_request);
    CHECK(err.message.find(path) != std::string::npos);
  }
}

TEST_CASE("whatever the admin API accepts survives a restart: empty and full rule sets") {
  rules_file file{rules_toml};
  temp_dir data;
  auto admin = bearer(signed_token("root", "admin"));
  std::vector<std::string> overrides{"ratelimit.rules_file=" + file.path};
  const std::string full =
    R"({"rules":[{"name":"ready","match":{"path_prefix":"/readyz","method":"GET"},"key":"ip",)"
    R"("algorithm":"sliding_log","limit":1,"window_sec":60,"mode":"simulate"},)"
    R"({"name":"sends","match":{"frame":"send"},"key":"user","algorithm":"token_bucket",)"
    R"("capacity":10,"refill_per_sec":0.25,"tiers":{"pro":{"capacity":100,"refill_per_sec":2.5},)"
    R"("free":{"capacity":5}},"on_error":"deny"}]})";
  for (std::string body : {std::string{R"({"rules":[]})"}, std::string{"{}"}, full}) {
    INFO(body);
    std::string shown;
    {
      running_node node{data.path(), overrides};
      auto put = http_call(node.port(), "PUT", "/api/v1/admin/ratelimits", body, admin);
      INFO(put.body);
      REQUIRE(put.status == 200);
      shown = http_call(node.port(), "GET", "/api/v1/admin/ratelimits", {}, admin).body;
      CHECK(same_rules(shown, put.body));
    }
    // The written file loads at start-up (a node that does not start fails here) ...
    running_node restarted{data.path(), overrides};
    // ... and holds the same set.
    auto after = http_call(restarted.port(), "GET", "/api/v1/admin/ratelimits", {}, admin).body;
    INFO(after);
    CHECK(same_rules(after, shown));
  }
}

TEST_CASE("a rule set nested deeper than 64 levels is refused before parsing") {
  rules_file file{rules_toml};
  running_node node{{"ratelimit.rules_file=" + file.path}};
  auto admin = bearer(signed_token("root", "admin"));
  auto deep = R"({"rules":[{"name":"x","tiers":)" + std::string(100000, '[')
              + std::string(100000, ']') + "}]}";
  auto res = http_call(node.port(), "PUT", "/api/v1/admin/ratelimits", deep, admin);
  CHECK(res.status == 400);
  CHECK(res.body.find("nested deeper than 64 levels") != std::string::npos);
}

TEST_CASE("simulate-mode rules never log a raw API key, at any level") {
  rules_file file{R"([[rules]]
name = "keys"
match = { path_prefix = "/healthz" }
key = "api_key"
algorithm = "fixed_window"
limit = 1
window_sec = 60
mode = "simulate"
)"};
  running_node node{{"ratelimit.rules_file=" + file.path}};
  auto log = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log);
  auto logger = spdlog::default_logger();
  auto old_level = logger->level();
  logger->sinks().push_back(sink);
  logger->set_level(spdlog::level::debug);
  const std::string secret_key = "sk_live_9c1d0f7e5b3a";
  for (int i = 0; i < 3; ++i)
    CHECK(http_call(node.port(), "GET", "/healthz", {}, {{"X-API-Key", secret_key}}).status == 200);
  logger->flush();
  logger->sinks().pop_back();
  logger->set_level(old_level);
  INFO(log->str());
  CHECK(log->str().find("(simulate) keys would reject key k:#") != std::string::npos);
  CHECK(log->str().find(secret_key) == std::string::npos);
}
