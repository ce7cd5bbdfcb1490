#include "actors/limits/rules.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::limits;

namespace {

const char* good_toml = R"(
[[rules]]
name = "api"
match = { path_prefix = "/api/", method = "post" }
key = "user"
algorithm = "sliding_window"
limit = 100
window_sec = 60
tiers = { pro = { limit = 1000 } }

[[rules]]
name = "send"
match = { frame = "send" }
key = "connection"
algorithm = "token_bucket"
capacity = 40
refill_per_sec = 20
mode = "simulate"
on_error = "deny"
)";

std::string rules_json(const std::string& rule_fields) {
  return R"({"rules":[{"name":"r","match":{"path_prefix":"/x"},)" + rule_fields + "}]}";
}

} // namespace

TEST_CASE("a TOML rule set compiles with defaults filled in") {
  rule_set set;
  auto err = parse_rules_toml(good_toml, "rules.toml", set);
  INFO(err.message);
  REQUIRE_FALSE(err);
  REQUIRE(set.rules.size() == 2);
  auto& api = set.rules[0];
  CHECK(api.method == "POST");
  CHECK(api.key == key_kind::user);
  CHECK(api.base.window_ms == 60'000);
  CHECK(api.params_for("pro").limit == 1000);
  CHECK(api.params_for("free").limit == 100);
  CHECK_FALSE(api.simulate);
  CHECK_FALSE(api.deny_on_error);
  auto& send = set.rules[1];
  CHECK(send.frame == "send");
  CHECK(send.base.limit == 40);
  CHECK(send.base.window_ms == 2000);  // 40 tokens at 20/s
  CHECK(send.simulate);
  CHECK(send.deny_on_error);
  CHECK(set.source.rules(0).mode() == "enforce");
  CHECK(set.source.rules(0).on_error() == "allow");
}

TEST_CASE("to_toml writes a set that reads back the same") {
  rule_set set;
  REQUIRE_FALSE(parse_rules_toml(good_toml, "rules.toml", set));
  rule_set again;
  auto text = to_toml(set);
  auto err = parse_rules_toml(text, "written.toml", again);
  INFO(text << err.message);
  REQUIRE_FALSE(err);
  CHECK(again.source.SerializeAsString() == set.source.SerializeAsString());
}

TEST_CASE("invalid rule sets are rejected whole, naming the rule and the field") {
  struct bad_case {
    std::string json;
    std::string says;
  };
  std::vector<bad_case> cases = {
    {rules_json(R"("algorithm":"leaky_bucket","limit":1,"window_sec":1)"), "algorithm must be"},
    {rules_json(R"("algorithm":"fixed_window","limit":0,"window_sec":1)"), "limit must be"},
    {rules_json(R"("algorithm":"fixed_window","limit":-5,"window_sec":1)"), "limit must be"},
    {rules_json(R"("algorithm":"sliding_window","limit":5,"window_sec":0)"), "window_sec"},
    {rules_json(R"("algorithm":"token_bucket","capacity":0,"refill_per_sec":1)"), "capacity"},
    {rules_json(R"("algorithm":"token_bucket","capacity":5,"refill_per_sec":-1)"), "refill_per_sec"},
    {rules_json(R"("algorithm":"token_bucket","capacity":1000000000,"refill_per_sec":1e-9)"), "time to refill"},
    {rules_json(R"("algorithm":"fixed_window","limit":1,"window_sec":1,"key":"cookie")"), "key must be"},
    {rules_json(R"("algorithm":"fixed_window","limit":1,"window_sec":1,"mode":"dry")"), "mode must be"},
    {rules_json(R"("algorithm":"fixed_window","limit":1,"window_sec":1,"on_error":"maybe")"), "on_error"},
    {rules_json(R"("algorithm":"fixed_window","limit":1,"window_sec":1,"scope":"galaxy")"), "scope must be"},
    {R"({"rules":[{"name":"r","match":{"frame":"send"},"algorithm":"fixed_window","limit":1,"window_sec":1,"scope":"cluster"}]})", "frame rules are counted per node"},
    {rules_json(R"("algorithm":"fixed_window","limit":1,"window_sec":1,"tiers":{"pro":{"limit":-1}})"), "tier pro"},
    {R"({"rules":[{"name":"r","algorithm":"fixed_window","limit":1,"window_sec":1}]})", "match needs"},
    {R"({"rules":[{"match":{"frame":"send"},"algorithm":"fixed_window","limit":1,"window_sec":1}]})", "name is required"},
    {R"({"rules":[{"name":"a","match":{"frame":"send"},"algorithm":"fixed_window","limit":1,"window_sec":1},)"
     R"({"name":"a","match":{"frame":"typing"},"algorithm":"fixed_window","limit":1,"window_sec":1}]})", "duplicate rule name"},
    {R"({"rules":[{"name":"r","match":{"path_prefix":"api"},"algorithm":"fixed_window","limit":1,"window_sec":1}]})", "must start with '/'"},
    {R"({"rules":"nope"})", "invalid rule set"},
    {R"({"rules":[)", "invalid rule set"},
  };
  for (auto& c : cases) {
    rule_set set;
    set.rules.resize(3);  // untouched on failure
    auto err = parse_rules_json(c.json, set);
    INFO(c.json << " -> " << err.message);
    CHECK(err.code == errc::bad_request);
    CHECK(err.message.find(c.says) != std::string::npos);
    CHECK(set.rules.size() == 3);
  }
}

TEST_CASE("TOML syntax errors and unknown top-level keys name the file and line") {
  rule_set set;
  auto err = parse_rules_toml("[[rules]]\nname = \n", "bad.toml", set);
  CHECK(err.code == errc::bad_request);
  CHECK(err.message.find("bad.toml:2") != std::string::npos);
  err = parse_rules_toml("limits = 3\n", "bad.toml", set);
  CHECK(err.message.find("unknown top-level key") != std::string::npos);
}

TEST_CASE("an empty file is an empty rule set") {
  rule_set set;
  REQUIRE_FALSE(parse_rules_toml("# nothing yet\n", "empty.toml", set));
  CHECK(set.rules.empty());
}

TEST_CASE("a rule's scope is node unless it says cluster") {
  rule_set set;
  auto err = parse_rules_toml(R"(
[[rules]]
name = "per-node"
match = { path_prefix = "/api/" }
algorithm = "fixed_window"
limit = 10
window_sec = 60

[[rules]]
name = "per-cluster"
match = { path_prefix = "/api/v1/urls" }
key = "user"
algorithm = "fixed_window"
limit = 10
window_sec = 60
scope = "cluster"
)", "scope.toml", set);
  INFO(err.message);
  REQUIRE_FALSE(err);
  REQUIRE(set.rules.size() == 2);
  CHECK_FALSE(set.rules[0].cluster_scope);
  CHECK(set.source.rules(0).scope() == "node");
  CHECK(set.rules[1].cluster_scope);
  CHECK(set.source.rules(1).scope() == "cluster");
  rule_set again;
  REQUIRE_FALSE(parse_rules_toml(to_toml(set), "written.toml", again));
  CHECK(again.rules[1].cluster_scope);
}
