// The services in a three-node cluster (../shared/CLUSTER.md, "Services in a cluster"), driven
// over HTTP against real parleyd processes on 127.0.0.1, .2 and .3 with a real etcd: data that
// belongs to a key lives on that key's partition owner, and every node answers as if it were
// the only one. Links made on one node redirect on the others and count their clicks; tasks
// created on one node are leased by a worker polling another; a cluster-scoped rate limit counts
// a key across all nodes; a follow and a post made on two nodes reach a feed read on the third.
#include "actors/tasks/task_ids.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"
#include "support/test_cluster.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <future>
#include <thread>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

using namespace parley;
using namespace std::chrono_literals;
using test::bearer;

namespace {

// The first string value of `field` in a JSON body ("" when there is none).
std::string field(const std::string& body, const std::string& name) {
  std::smatch m;
  if (std::regex_search(body, m, std::regex{"\"" + name + "\":\"([^\"]*)\""}))
    return m[1];
  return {};
}

// Every string value of `field` in a JSON body, in order.
std::vector<std::string> fields(const std::string& body, const std::string& name) {
  std::vector<std::string> out;
  std::regex re{"\"" + name + "\":\"([^\"]*)\""};
  for (std::sregex_iterator it{body.begin(), body.end(), re}, end; it != end; ++it)
    out.push_back((*it)[1]);
  return out;
}

test::test_cluster_options three_hosts(std::vector<std::string> args = {}) {
  test::test_cluster_options o;
  o.size = 3;
  o.spread = true;
  o.args = std::move(args);
  return o;
}

} // namespace

TEST_CASE("a link made on n2 redirects on n1 and n3, and its statistics count those clicks") {
  test::test_cluster c{three_hosts()};
  c.require_ready();
  auto token = test::dev_token(c.port(0), "alice");
  REQUIRE_FALSE(token.empty());

  // Generated keys and aliases; the aliases' owners are whichever nodes their keys hash to.
  std::vector<std::string> keys;
  std::set<std::string> owners;
  for (int i = 0; i < 6; ++i) {
    auto alias = i % 2 == 0 ? "" : R"(,"custom_alias":"promo-)" + std::to_string(i) + "\"";
    auto made = c.call(1, "POST", "/api/v1/urls",
                       R"({"long_url":"https://example.com/page-)" + std::to_string(i) + "\""
                         + alias + "}",
                       bearer(token));
    INFO(made.body);
    REQUIRE(made.status == 201);
    keys.push_back(field(made.body, "key"));
    owners.insert(c.owner_of(keys.back()));
  }
  CHECK(owners.size() >= 2);  // more than the node that took the creates
  // A generated key belongs to the node that drew it.
  for (size_t i = 0; i < keys.size(); i += 2)
    CHECK(c.owner_of(keys[i]) == "n2");

  for (size_t i = 0; i < keys.size(); ++i) {
    auto location = "https://example.com/page-" + std::to_string(i);
    for (uint32_t n : {0u, 2u, 0u}) {  // n1 twice: the second from its cache
      auto res = c.call(n, "GET", "/" + keys[i]);
      INFO(c.name(n) << " /" << keys[i] << ": " << res.status << " " << res.body);
      CHECK(res.status == 302);
      CHECK(res.headers["location"] == location);
    }
    // Reads and statistics from any node; the three clicks (n1, n3, n1) are counted at the
    // link's owner.
    auto read = c.call(2, "GET", "/api/v1/urls/" + keys[i], {}, bearer(token));
    CHECK(read.status == 200);
    CHECK(field(read.body, "long_url") == location);
    CHECK(test::eventually([&] {
      auto stats = c.call(0, "GET", "/api/v1/urls/" + keys[i] + "/stats", {}, bearer(token));
      return stats.status == 200 && field(stats.body, "clicks") == "3";
    }, 5s));
  }

  // An alias is one key in the whole cluster.
  auto again = c.call(2, "POST", "/api/v1/urls",
                      R"({"long_url":"https://example.com/other","custom_alias":"promo-1"})",
                      bearer(token));
  CHECK(again.status == 409);

  // A delete on n3 reaches the redirect caches of every node.
  auto del = c.call(2, "DELETE", "/api/v1/urls/" + keys[0], {}, bearer(token));
  CHECK(del.status == 204);
  for (uint32_t n = 0; n < 3; ++n)
    CHECK(test::eventually([&] { return c.call(n, "GET", "/" + keys[0]).status == 404; }, 5s));
}

TEST_CASE("tasks created on n1 are leased by a worker polling n3, from every node's shards") {
  test::test_cluster c{three_hosts()};
  c.require_ready();
  auto token = test::dev_token(c.port(0), "alice");

  std::set<std::string> created;
  std::set<std::string> owners;
  for (int i = 0; i < 12; ++i) {
    // Without a key a task goes to one of n1's own shards; with one, to the key's shard, which
    // any node may own.
    auto key = i % 2 == 0 ? "" : R"(,"idempotency_key":"job-)" + std::to_string(i) + "\"";
    auto res = c.call(0, "POST", "/api/v1/tasks", R"({"task_type":"report","payload":{"n":)"
                                                    + std::to_string(i) + "}" + key + "}",
                      bearer(token));
    INFO(res.body);
    REQUIRE(res.status == 201);
    auto id = field(res.body, "id");
    created.insert(id);
    owners.insert(c.owner_of(std::to_string(tasks::shard_of(id))));
  }
  CHECK(owners.size() >= 2);

  std::set<std::string> leased;
  CHECK(test::eventually([&] {
    auto res = c.call(2, "POST", "/api/v1/leases",
                      R"({"worker_id":"w3","task_types":["report"],"max_tasks":10,"wait_ms":500})",
                      bearer(token));
    if (res.status != 200)
      return false;
    for (auto& lease : fields(res.body, "lease_id")) {
      auto done = c.call(2, "POST", "/api/v1/leases/" + lease + "/complete", "{}", bearer(token));
      CHECK(done.status == 200);
    }
    for (auto& id : fields(res.body, "task_id"))
      CHECK(leased.insert(id).second);  // never leased twice
    return leased == created;
  }, 10s));

  // Each of them completed, as read through n2, with its run.
  for (auto& id : created) {
    auto task = c.call(1, "GET", "/api/v1/tasks/" + id, {}, bearer(token));
    INFO(task.status << " " << task.body);
    CHECK(field(task.body, "status") == "COMPLETED");
    auto runs = c.call(1, "GET", "/api/v1/tasks/" + id + "/runs", {}, bearer(token));
    CHECK(fields(runs.body, "outcome") == std::vector<std::string>{"completed"});
  }
  // Listed page by page through n1: every node's tasks, in creation order, each once.
  std::vector<std::string> listed;
  std::string cursor;
  do {
    auto page = c.call(0, "GET", "/api/v1/tasks?limit=5&cursor=" + cursor, {}, bearer(token));
    INFO(page.body);
    REQUIRE(page.status == 200);
    auto ids = fields(page.body, "id");
    listed.insert(listed.end(), ids.begin(), ids.end());
    cursor = field(page.body, "next_cursor");
    REQUIRE(listed.size() <= created.size());
  } while (!cursor.empty());
  CHECK(std::set<std::string>(listed.begin(), listed.end()) == created);
  CHECK(std::is_sorted(listed.begin(), listed.end()));

  // A task created while a worker already waits on another node is handed to it within the
  // long poll (one hop from its shard), not after the poll times out.
  auto poll = std::async(std::launch::async, [&] {
    auto start = std::chrono::steady_clock::now();
    auto res = c.call(2, "POST", "/api/v1/leases",
                      R"({"worker_id":"w3","task_types":["urgent"],"max_tasks":1,"wait_ms":8000})",
                      bearer(token));
    return std::make_pair(res, std::chrono::steady_clock::now() - start);
  });
  std::this_thread::sleep_for(300ms);
  auto urgent = c.call(0, "POST", "/api/v1/tasks", R"({"task_type":"urgent"})", bearer(token));
  REQUIRE(urgent.status == 201);
  auto [res, took] = poll.get();
  CHECK(field(res.body, "task_id") == field(urgent.body, "id"));
  CHECK(took < 5s);
}

TEST_CASE("a cluster-scoped rate limit counts a key across every node, a node-scoped one per node") {
  test::temp_dir rules_dir;
  auto rules = rules_dir.path() + "/rules.toml";
  std::ofstream{rules} << R"(
[[rules]]
name = "profiles-cluster"
match = { path_prefix = "/api/v1/users/" }
key = "user"
algorithm = "fixed_window"
limit = 4
window_sec = 600
scope = "cluster"

[[rules]]
name = "following-node"
match = { path_prefix = "/api/v1/following/" }
key = "user"
algorithm = "fixed_window"
limit = 1
window_sec = 600

[[rules]]
name = "exports"
match = { path_prefix = "/api/v1/exports" }
key = "user"
algorithm = "token_bucket"
capacity = 5
refill_per_sec = 0.001
scope = "cluster"
)";
  test::test_cluster c{three_hosts({"--set", "ratelimit.rules_file=" + rules})};
  c.require_ready();

  // Users whose keys other nodes own, so that the count crosses nodes whichever node is asked.
  for (auto user : {"alice", "bob", "carol"}) {
    auto token = test::dev_token(c.port(0), user);
    auto owner = c.owner_of(user);
    INFO(user << " is counted on " << owner);
    std::vector<int> statuses;
    for (uint32_t n : {0u, 1u, 2u, 0u, 1u})
      statuses.push_back(c.call(n, "GET", std::string{"/api/v1/users/"} + user, {},
                                bearer(token)).status);
    CHECK(statuses[3] != 429);
    CHECK(statuses[4] == 429);  // the fifth of the cluster, on whichever node
    auto refused = c.call(2, "GET", std::string{"/api/v1/users/"} + user, {}, bearer(token));
    CHECK(refused.status == 429);
    CHECK(refused.headers.count("retry-after") == 1);
    CHECK(field(refused.body, "code") == "rate_limited");
  }

  // A node-scoped rule: one per node.
  auto token = test::dev_token(c.port(0), "dave");
  for (uint32_t n = 0; n < 3; ++n)
    CHECK(c.call(n, "PUT", "/api/v1/following/alice", {}, bearer(token)).status != 429);
  CHECK(c.call(0, "PUT", "/api/v1/following/alice", {}, bearer(token)).status == 429);

  // The check API: costs spent on three nodes come out of one bucket at the key's owner.
  auto check = [&](uint32_t n, int cost) {
    auto res = c.call(n, "POST", "/api/v1/ratelimit/check",
                      R"({"rule":"exports","key":"nightly","cost":)" + std::to_string(cost) + "}",
                      bearer(token));
    INFO(res.body);
    REQUIRE(res.status == 200);
    return res.body.find("\"allowed\":true") != std::string::npos;
  };
  CHECK(check(0, 2));
  CHECK(check(1, 2));
  CHECK_FALSE(check(2, 2));
  CHECK(check(2, 1));
  CHECK_FALSE(check(0, 1));
}
