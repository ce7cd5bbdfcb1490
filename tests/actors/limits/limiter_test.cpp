#include "actors/limits/limiter.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace parley;
using namespace parley::limits;

namespace {

struct fake_clock {
  std::shared_ptr<std::atomic<int64_t>> now = std::make_shared<std::atomic<int64_t>>(1'700'000'000'000);
  std::function<int64_t()> fn() const {
    return [n = now] { return n->load(); };
  }
  void advance(int64_t ms) { *now += ms; }
};

rule_set rules(const std::string& toml) {
  rule_set set;
  auto err = parse_rules_toml(toml, "test.toml", set);
  INFO(err.message);
  REQUIRE_FALSE(err);
  return set;
}

subject from(std::string_view ip, std::string_view user = {}, std::string_view tier = {}) {
  subject s;
  s.ip = ip;
  s.user = user;
  s.tier = tier;
  return s;
}

const char* two_rules = R"(
[[rules]]
name = "all-api"
match = { path_prefix = "/api/" }
key = "ip"
algorithm = "fixed_window"
limit = 10
window_sec = 60

[[rules]]
name = "create"
match = { path_prefix = "/api/v1/urls", method = "POST" }
key = "user"
algorithm = "fixed_window"
limit = 2
window_sec = 60
tiers = { pro = { limit = 4 } }
)";

} // namespace

TEST_CASE("rules match by path prefix and method, and every matching rule must pass") {
  fake_clock clock;
  rate_limiter limiter{{1000, clock.fn()}};
  limiter.replace(rules(two_rules));
  CHECK_FALSE(limiter.check_http("GET", "/healthz", from("10.0.0.1")).matched);
  auto get = limiter.check_http("GET", "/api/v1/urls/abc", from("10.0.0.1", "ann"));
  CHECK(get.matched);
  CHECK(get.rule == "all-api");
  CHECK(get.remaining == 9);
  auto post1 = limiter.check_http("POST", "/api/v1/urls", from("10.0.0.1", "ann"));
  CHECK(post1.allowed);
  CHECK(post1.rule == "create");  // 1 of 2 left is closer to its limit than 8 of 10
  CHECK(post1.remaining == 1);
  CHECK(limiter.check_http("POST", "/api/v1/urls", from("10.0.0.1", "ann")).allowed);
  auto post3 = limiter.check_http("POST", "/api/v1/urls", from("10.0.0.1", "ann"));
  CHECK_FALSE(post3.allowed);
  CHECK(post3.rule == "create");
  CHECK(post3.retry_after_ms > 0);
  CHECK(post3.retry_after_ms <= 60'000);  // until the aligned window ends
  // Another user from the same address has their own create budget.
  CHECK(limiter.check_http("POST", "/api/v1/urls", from("10.0.0.1", "bob")).allowed);
  clock.advance(60'000);
  CHECK(limiter.check_http("POST", "/api/v1/urls", from("10.0.0.1", "ann")).allowed);
}

TEST_CASE("tiers from the token raise a rule's numbers") {
  fake_clock clock;
  rate_limiter limiter{{1000, clock.fn()}};
  limiter.replace(rules(two_rules));
  int ok = 0;
  for (int i = 0; i < 6; ++i)
    ok += limiter.check_http("POST", "/api/v1/urls", from("10.0.0.2", "pat", "pro")).allowed;
  CHECK(ok == 4);
}

TEST_CASE("anonymous callers of user rules are keyed by address") {
  fake_clock clock;
  rate_limiter limiter{{1000, clock.fn()}};
  limiter.replace(rules(two_rules));
  CHECK(limiter.check_http("POST", "/api/v1/urls", from("10.0.0.3")).allowed);
  CHECK(limiter.check_http("POST", "/api/v1/urls", from("10.0.0.3")).allowed);
  CHECK_FALSE(limiter.check_http("POST", "/api/v1/urls", from("10.0.0.3")).allowed);
  CHECK(limiter.check_http("POST", "/api/v1/urls", from("10.0.0.4")).allowed);
}

TEST_CASE("a presented API key can not take the budget of an anonymous address") {
  fake_clock clock;
  rate_limiter limiter{{1000, clock.fn()}};
  limiter.replace(rules(R"([[rules]]
name = "keys"
match = { path_prefix = "/" }
key = "api_key"
algorithm = "fixed_window"
limit = 1
window_sec = 60
)"));
  subject forged = from("10.9.9.9");
  forged.api_key = "ip:10.0.0.7";
  CHECK(limiter.check_http("GET", "/x", forged).allowed);
  CHECK_FALSE(limiter.check_http("GET", "/x", forged).allowed);
  // The anonymous caller at 10.0.0.7 still has its own budget.
  CHECK(limiter.check_http("GET", "/x", from("10.0.0.7")).allowed);
}

TEST_CASE("HEAD counts against GET rules") {
  fake_clock clock;
  rate_limiter limiter{{1000, clock.fn()}};
  limiter.replace(rules(R"([[rules]]
name = "get"
match = { path_prefix = "/", method = "GET" }
algorithm = "fixed_window"
limit = 1
window_sec = 1
)"));
  CHECK(limiter.check_http("HEAD", "/abc", from("1.1.1.1")).allowed);
  CHECK_FALSE(limiter.check_http("GET", "/abc", from("1.1.1.1")).allowed);
  CHECK_FALSE(limiter.check_http("POST", "/abc", from("1.1.1.1")).matched);
}

TEST_CASE("simulate-mode rules count but never reject nor show in headers") {
  fake_clock clock;
  rate_limiter limiter{{1000, clock.fn()}};
  limiter.replace(rules(R"([[rules]]
name = "dry"
match = { frame = "send" }
key = "connection"
algorithm = "fixed_window"
limit = 1
window_sec = 10
mode = "simulate"
)"));
  subject s;
  s.connection = "s-1";
  for (int i = 0; i < 5; ++i) {
    auto d = limiter.check_frame("send", s);
    CHECK(d.allowed);
    CHECK_FALSE(d.matched);
  }
}

TEST_CASE("when the key table is full the rule's on_error decides") {
  fake_clock clock;
  // 1024 keys over 64 shards: 16 per shard, so a few thousand distinct keys overflow some.
  rate_limiter limiter{{1024, clock.fn()}};
  auto text = std::string{R"([[rules]]
name = "deny"
match = { frame = "send" }
key = "connection"
algorithm = "fixed_window"
limit = 100
window_sec = 60
on_error = "deny"

[[rules]]
name = "allow"
match = { frame = "typing" }
key = "connection"
algorithm = "fixed_window"
limit = 100
window_sec = 60
)"};
  limiter.replace(rules(text));
  int denied = 0, allowed_typing = 0;
  for (int i = 0; i < 5000; ++i) {
    subject s;
    auto id = "conn-" + std::to_string(i);
    s.connection = id;
    denied += limiter.check_frame("send", s).allowed ? 0 : 1;
    allowed_typing += limiter.check_frame("typing", s).allowed ? 1 : 0;
  }
  CHECK(denied > 0);
  CHECK(allowed_typing == 5000);
  // Once the windows pass, the idle keys are swept and new keys are admitted again.
  clock.advance(61'000);
  subject late;
  late.connection = "late";
  CHECK(limiter.check_frame("send", late).allowed);
}

TEST_CASE("replacing the rules keeps the state of rules whose numbers did not change") {
  fake_clock clock;
  rate_limiter limiter{{1000, clock.fn()}};
  limiter.replace(rules(two_rules));
  for (int i = 0; i < 2; ++i)
    limiter.check_http("POST", "/api/v1/urls", from("10.0.0.5", "kim"));
  limiter.replace(rules(two_rules));
  CHECK_FALSE(limiter.check_http("POST", "/api/v1/urls", from("10.0.0.5", "kim")).allowed);
  auto changed = std::string{two_rules};
  changed.replace(changed.find("limit = 2\n"), 10, "limit = 3\n");
  limiter.replace(rules(changed));
  CHECK(limiter.check_http("POST", "/api/v1/urls", from("10.0.0.5", "kim")).allowed);
  CHECK(limiter.current().rules_size() == 2);
}

TEST_CASE("the check API names a rule and a key, and unknown rules are not_found") {
  fake_clock clock;
  rate_limiter limiter{{1000, clock.fn()}};
  limiter.replace(rules(two_rules));
  decision d;
  REQUIRE_FALSE(limiter.check_rule("create", "backend-42", 2, {}, d));
  CHECK(d.allowed);
  CHECK(d.remaining == 0);
  REQUIRE_FALSE(limiter.check_rule("create", "backend-42", 1, {}, d));
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after_ms > 0);
  CHECK(limiter.check_rule("nope", "k", 1, {}, d).code == errc::not_found);
  CHECK(limiter.check_rule("create", "k", 3, {}, d).code == errc::bad_request);
}

TEST_CASE("concurrent checks of one key never admit more than the limit") {
  rate_limiter limiter;
  limiter.replace(rules(R"([[rules]]
name = "global"
match = { frame = "send" }
key = "global"
algorithm = "sliding_log"
limit = 1000
window_sec = 3600
)"));
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        admitted += limiter.check_frame("send", subject{}).allowed ? 1 : 0;
    });
  for (auto& t : threads)
    t.join();
  CHECK(admitted == 1000);
}

// -- scope = "cluster" -------------------------------------------------------------------------

namespace {

const char* cluster_rules = R"(
[[rules]]
name = "per-node"
match = { path_prefix = "/api/" }
key = "ip"
algorithm = "fixed_window"
limit = 100
window_sec = 60

[[rules]]
name = "per-cluster"
match = { path_prefix = "/api/" }
key = "user"
algorithm = "fixed_window"
limit = 2
window_sec = 60
scope = "cluster"
)";

// Two nodes' limiters: n1 owns the keys that start with "a", n2 the others.
struct two_limiters {
  fake_clock clock;
  rate_limiter n1{{1000, clock.fn(), [](std::string_view key) { return key.substr(0, 1) == "a"; }}};
  rate_limiter n2{{1000, clock.fn(), [](std::string_view key) { return key.substr(0, 1) != "a"; }}};

  two_limiters() {
    n1.replace(rules(cluster_rules));
    n2.replace(rules(cluster_rules));
  }

  // A request at `at`, with the remote checks answered by `owner` as the edge would.
  decision request(rate_limiter& at, rate_limiter& owner, std::string_view user) {
    auto d = at.check_http("GET", "/api/v1/feed", from("10.0.0.1", user));
    for (auto& c : d.remote) {
      decision verdict;
      REQUIRE_FALSE(owner.check_owned(c, verdict));
      rate_limiter::fold(d, verdict);
    }
    d.remote.clear();
    return d;
  }
};

} // namespace

TEST_CASE("a cluster-scoped rule counts a key once, at its owner, whichever node sees it") {
  two_limiters c;
  // bob's counter lives on n2: a request seen by n1 leaves the rule to n2.
  auto d = c.n1.check_http("GET", "/api/v1/feed", from("10.0.0.1", "bob"));
  REQUIRE(d.remote.size() == 1);
  CHECK(d.remote[0].rule == "per-cluster");
  CHECK(d.remote[0].key == "bob");
  CHECK(d.rule == "per-node");  // decided here
  CHECK(c.request(c.n1, c.n2, "bob").allowed);
  CHECK(c.request(c.n2, c.n2, "bob").allowed);
  auto third = c.request(c.n1, c.n2, "bob");
  CHECK_FALSE(third.allowed);
  CHECK(third.rule == "per-cluster");
  CHECK(third.retry_after_ms > 0);
  // alice's counter lives on n1, apart from bob's.
  CHECK(c.n1.check_http("GET", "/api/v1/feed", from("10.0.0.1", "alice")).remote.empty());
}

TEST_CASE("a check API key of a cluster-scoped rule is counted at its owner, with its cost") {
  two_limiters c;
  decision d;
  REQUIRE_FALSE(c.n1.check_rule("per-cluster", "svc:bob:export", 2, "", d));
  REQUIRE(d.remote.size() == 1);
  CHECK(d.remote[0].cost == 2);
  decision verdict;
  REQUIRE_FALSE(c.n2.check_owned(d.remote[0], verdict));
  CHECK(verdict.allowed);
  CHECK(verdict.remaining == 0);
  REQUIRE_FALSE(c.n2.check_rule("per-cluster", "svc:bob:export", 1, "", d));
  CHECK(d.remote.empty());
  CHECK_FALSE(d.allowed);  // the two n1 spent count at n2
}

TEST_CASE("an owner that does not answer leaves a cluster-scoped rule to its on_error") {
  two_limiters c;
  remote_check check{"per-cluster", "bob", "", 1};
  auto allowed = c.n1.undecided(check);
  CHECK(allowed.allowed);
  auto deny = rules(R"(
[[rules]]
name = "strict"
match = { path_prefix = "/api/" }
key = "user"
algorithm = "fixed_window"
limit = 2
window_sec = 60
scope = "cluster"
on_error = "deny"
)");
  c.n1.replace(std::move(deny));
  auto refused = c.n1.undecided(remote_check{"strict", "bob", "", 1});
  CHECK(refused.matched);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_ms == 60'000);
  decision unknown;
  CHECK(c.n2.check_owned(remote_check{"nope", "bob", "", 1}, unknown).code == errc::not_found);
}
