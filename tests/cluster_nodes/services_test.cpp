// The services in a three-node cluster (../shared/CLUSTER.md, "Services in a cluster"), driven
// over HTTP against real parleyd processes on 127.0.0.1, .2 and .3 with a real etcd: data that
// belongs to a key lives on that key's partition owner, and every node answers as if it were
// the only one. Links made on one node redirect on the others and count their clicks; tasks
// created on one node are leased by a worker polling another; a cluster-scoped rate limit counts
// a key across all nodes; a follow and a post made on two nodes reach a feed read on the third,
// and a live feed item reaches a subscriber connected to a node that does not hold its records.
#include "actors/tasks/task_ids.hpp"
#include "support/chat_client.hpp"
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
  auto token = c.token(0, "alice");
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
  auto token = c.token(0, "alice");

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
  auto parked = c.metric(2, "parley_task_workers_waiting");  // the built-in executors
  auto poll = std::async(std::launch::async, [&] {
    auto start = std::chrono::steady_clock::now();
    auto res = c.call(2, "POST", "/api/v1/leases",
                      R"({"worker_id":"w3","task_types":["urgent"],"max_tasks":1,"wait_ms":8000})",
                      bearer(token));
    return std::make_pair(res, std::chrono::steady_clock::now() - start);
  });
  // The task is created once the worker's poll is parked on n3, not after a guessed pause.
  REQUIRE(test::eventually([&] { return c.metric(2, "parley_task_workers_waiting") == parked + 1; },
                           5s));
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
    auto token = c.token(0, user);
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
  auto token = c.token(0, "dave");
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

namespace {

// A post by the token's user through node i; its id.
std::string post_on(test::test_cluster& c, uint32_t i, const std::string& token,
                    const std::string& text) {
  auto res = c.call(i, "POST", "/api/v1/posts", R"({"text":")" + text + "\"}", bearer(token));
  INFO(res.body);
  REQUIRE(res.status == 201);
  return field(res.body, "post_id");
}

// The post ids of a user's feed read through node i.
std::vector<std::string> feed_on(test::test_cluster& c, uint32_t i, const std::string& token,
                                 const std::string& mode = "chronological") {
  auto res = c.call(i, "GET", "/api/v1/feed?limit=50&mode=" + mode, {}, bearer(token));
  INFO(res.body);
  REQUIRE(res.status == 200);
  return fields(res.body, "post_id");
}

bool has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// A user name starting with `prefix` whose records the node `owner` holds (or that `avoid`
// does not hold, when `owner` is empty).
std::string user_on(test::test_cluster& c, const std::string& prefix, const std::string& owner,
                    const std::string& avoid = {}) {
  for (int i = 0; i < 200; ++i) {
    auto user = prefix + std::to_string(i);
    auto at = c.owner_of(user);
    if (owner.empty() ? at != avoid : at == owner)
      return user;
  }
  FAIL("no user " << prefix << "* on " << owner);
  return {};
}

} // namespace

TEST_CASE("a follow made on n1 and a post made on n2 reach the follower's feed read on n3") {
  test::test_cluster c{three_hosts()};
  c.require_ready();
  // bob's records on n2, alice's on n3: the follow, the post and the read each cross nodes.
  auto bob = user_on(c, "bob", "n2");
  auto alice = user_on(c, "alice", "n3");
  auto bob_token = c.token(1, bob);
  auto alice_token = c.token(0, alice);
  // A user exists from their first feed request (on any node).
  REQUIRE(c.call(1, "GET", "/api/v1/users/" + bob, {}, bearer(bob_token)).status == 200);
  CHECK(test::eventually([&] {
    return c.call(0, "PUT", "/api/v1/following/" + bob, {}, bearer(alice_token)).status == 204;
  }, 5s));

  auto first = post_on(c, 1, bob_token, "first from bob");
  // alice has never read: her feed is built from the posts of the node that stores bob's.
  CHECK(has(feed_on(c, 2, alice_token), first));
  // Now she is active: bob's next post is fanned out to her timeline on her node.
  auto second = post_on(c, 1, bob_token, "second from bob");
  CHECK(test::eventually([&] {
    auto ids = feed_on(c, 2, alice_token);
    return has(ids, first) && has(ids, second);
  }, 5s));
  auto ranked = feed_on(c, 0, alice_token, "ranked");  // from any node
  CHECK(has(ranked, first));
  CHECK(has(ranked, second));

  // Profiles and follow lists from any node, with counts kept on each user's own node.
  auto profile = c.call(0, "GET", "/api/v1/users/" + bob, {}, bearer(alice_token));
  INFO(profile.body);
  CHECK(field(profile.body, "followers") == "1");
  CHECK(field(profile.body, "posts") == "2");
  CHECK(field(c.call(1, "GET", "/api/v1/users/" + alice, {}, bearer(alice_token)).body,
              "following") == "1");
  auto followers = c.call(2, "GET", "/api/v1/users/" + bob + "/followers", {}, bearer(alice_token));
  CHECK(fields(followers.body, "user_id") == std::vector<std::string>{alice});
  auto following = c.call(0, "GET", "/api/v1/users/" + alice + "/following", {},
                          bearer(alice_token));
  CHECK(fields(following.body, "user_id") == std::vector<std::string>{bob});

  // An unfollow through n2: bob leaves alice's feed read on n3, and both counts drop.
  CHECK(c.call(1, "DELETE", "/api/v1/following/" + bob, {}, bearer(alice_token)).status == 204);
  CHECK(test::eventually([&] { return !has(feed_on(c, 2, alice_token), first); }, 5s));
  CHECK(field(c.call(2, "GET", "/api/v1/users/" + bob, {}, bearer(bob_token)).body, "followers")
        == "0");
  // Following a user nobody has seen is still 404, across nodes.
  CHECK(c.call(0, "PUT", "/api/v1/following/" + user_on(c, "ghost", "", "n3"), {},
               bearer(alice_token))
          .status == 404);
}

TEST_CASE("a post reaches followers on every node with one fan-out message per node") {
  test::test_cluster c{three_hosts()};
  c.require_ready();
  auto author = user_on(c, "author", "n1");
  auto author_token = c.token(0, author);
  // A user exists from their first authenticated request; in a cluster its record is written by
  // the owner's follow graph a moment later (make_known is one way), so the first read may not
  // see it yet.
  REQUIRE(test::eventually([&] {
    return c.call(0, "GET", "/api/v1/users/" + author, {}, bearer(author_token)).status == 200;
  }, 5s));
  std::vector<std::string> tokens;
  std::set<std::string> nodes;
  for (int i = 0; i < 9; ++i) {
    // Three followers on each node.
    auto fan = user_on(c, "fan" + std::to_string(i) + "-", c.name(i % 3));
    nodes.insert(c.owner_of(fan));
    tokens.push_back(c.token(i % 3, fan));
    CHECK(test::eventually([&] {
      return c.call(i % 3, "PUT", "/api/v1/following/" + author, {}, bearer(tokens.back()))
               .status == 204;
    }, 5s));
    feed_on(c, (i + 1) % 3, tokens.back());  // active: fan-out fills their timelines
  }
  REQUIRE(nodes.size() == 3);
  auto sent = [&] {  // absent until the first delivery
    return std::max<int64_t>(
      0, test::metric_of(c.call(0, "GET", "/metrics"), "parley_feed_fanout_deliveries_total"));
  };
  auto before = sent();
  auto post = post_on(c, 2, author_token, "to all fans");
  for (size_t i = 0; i < tokens.size(); ++i)
    CHECK(test::eventually([&] { return has(feed_on(c, i % 3, tokens[i]), post); }, 5s));
  // n1 holds the author's followers: one delivery for each other node, not one per follower.
  CHECK(sent() - before == 2);
}

TEST_CASE("a live feed item reaches a subscriber connected to a node that does not hold its "
          "records") {
  test::test_cluster c{three_hosts()};
  c.require_ready();
  // The follower's records (and so its fan-out) on n2, its subscribed connection on n1; the
  // author's records on n3, where it posts.
  auto fan = user_on(c, "fan", "n2");
  auto author = user_on(c, "writer", "n3");
  REQUIRE(c.owner_of(fan) != c.name(0));
  auto fan_token = c.token(0, fan);
  auto author_token = c.token(2, author);
  REQUIRE(c.call(2, "GET", "/api/v1/users/" + author, {}, bearer(author_token)).status == 200);
  CHECK(test::eventually([&] {
    return c.call(0, "PUT", "/api/v1/following/" + author, {}, bearer(fan_token)).status == 204;
  }, 5s));

  test::chat_client subscriber{c.host(0), c.port(0), fan, "phone"};
  subscriber.send(R"({"feed_subscribe":{}})");
  // Answered after feed_subscribe: the subscription is in place.
  CHECK(subscriber.call(R"({"request_id":"p","ping":{}})").has_pong());
  // Another connection of the same user, on n3, that did not subscribe.
  test::chat_client bystander{c.host(2), c.port(2), fan, "laptop"};
  // n2 (which decides who gets the post, and has no session of its own) knows both sessions
  // from the routing table.
  REQUIRE(test::eventually([&] {
    return c.metric(1, "parley_cluster_routes_entries") >= 2;
  }, 5s));
  auto sent = [&] {  // absent until the first batch
    return std::max<int64_t>(0, c.metric(1, "parley_feed_live_batches_sent_total"));
  };
  auto before = sent();

  auto post = post_on(c, 2, author_token, "live across nodes");
  auto item = subscriber.next([](auto& f) { return f.has_feed_item(); });
  CHECK(item.feed_item().post().post_id() == post);
  CHECK(item.feed_item().post().author_id() == author);
  CHECK(item.feed_item().post().text() == "live across nodes");
  // Once, and only to the connection that subscribed.
  CHECK(subscriber.none_within(300, [](auto& f) { return f.has_feed_item(); }));
  CHECK(bystander.none_within(300, [](auto& f) { return f.has_feed_item(); }));
  // n2 sent one message to each other node holding the fan's sessions (n1 and n3), however
  // many connections there are.
  CHECK(sent() - before == 2);
}
