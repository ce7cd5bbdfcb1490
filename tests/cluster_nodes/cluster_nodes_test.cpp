// Nodes as real parleyd processes in one cluster with a real etcd, on loopback: requests for
// entities another node owns are answered from any node; a node killed with SIGKILL is seen
// down within the lease TTL, its partitions answer `unavailable` at once instead of hanging,
// and it comes back with its data; a node that cannot renew its lease stops acknowledging
// writes (../shared/CLUSTER.md, "What a cluster promises").
#include "actors/feed/feed_context.hpp"
#include "common/time_ordered_id.hpp"
#include "support/eventually.hpp"
#include "support/test_cluster.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>

using namespace parley;
using namespace std::chrono_literals;

namespace {

constexpr auto lease_ttl = 3000ms;

// One etcd and `size` parleyd nodes n1..nN (support/test_cluster.hpp), with the owner of a
// shard ("0".."15": a post shard or task shard) as the partition map says.
struct test_cluster : test::test_cluster {
  explicit test_cluster(uint32_t n) : test::test_cluster(n) {}

  std::string owner_of_shard(uint32_t shard) { return owner_of(std::to_string(shard)); }
};

int64_t metric(uint16_t port, const std::string& name) {
  return test::metric_of(test::http_call(port, "GET", "/metrics"), name);
}

using test::bearer;

// An admin's token, minted by the node's dev endpoint.
std::string admin_token(uint16_t port) {
  auto res = test::http_call(port, "POST", "/api/v1/dev/token",
                             R"({"user_id":"ops","role":"admin"})");
  std::smatch m;
  REQUIRE(std::regex_search(res.body, m, std::regex{R"re("token":"([^"]+)")re"}));
  return m[1];
}

// A post by the token's user; its id.
std::string create_post(uint16_t port, const std::string& token, const std::string& text) {
  auto res = test::http_call(port, "POST", "/api/v1/posts", R"({"text":")" + text + "\"}",
                             bearer(token));
  INFO(res.body);
  REQUIRE(res.status == 201);
  std::smatch m;
  REQUIRE(std::regex_search(res.body, m, std::regex{R"re("post_id":"([^"]+)")re"}));
  return m[1];
}

uint32_t shard_of_post(const std::string& post_id) {
  return id_shard(post_id, feed::post_shard_count);
}

// A task: written through a task shard and its storage writer (the write fence's path).
int create_task(uint16_t port, const std::string& token) {
  return test::http_call(port, "POST", "/api/v1/tasks", R"({"task_type":"noop","payload":{}})",
                         bearer(token))
    .status;
}

} // namespace

TEST_CASE("three nodes answer for each other's entities, whichever node a request reaches") {
  test_cluster c{3};
  c.require_ready();
  auto token = test::dev_token(c.port(0), "alice");
  REQUIRE_FALSE(token.empty());

  // Posts of many authors land on their authors' post shards, which the three nodes own between
  // them; every node reads every post (a read is a request to the post's shard, wherever it is).
  std::vector<std::string> ids;
  std::set<std::string> owners;
  for (uint32_t i = 0; i < 24; ++i) {
    auto author = test::dev_token(c.port(i % 3), "author" + std::to_string(i));
    ids.push_back(create_post(c.port(i % 3), author, "post " + std::to_string(i)));
    owners.insert(c.owner_of_shard(shard_of_post(ids.back())));
  }
  for (auto& id : ids)
    for (uint32_t i = 0; i < 3; ++i) {
      auto res = test::http_call(c.port(i), "GET", "/api/v1/posts/" + id, {}, bearer(token));
      INFO(c.name(i) << " " << id << ": " << res.body);
      CHECK(res.status == 200);
      CHECK(res.body.find(id) != std::string::npos);
    }
  CHECK(owners.size() >= 2);  // the test is about more than one owner
  int64_t forwarded = 0;
  for (uint32_t i = 0; i < 3; ++i)
    forwarded += metric(c.port(i), "parley_cluster_forwarded_requests_total\\{outcome=\"reply\"\\}");
  CHECK(forwarded > 0);
  // The admin console lists the members as etcd does, from any node.
  auto admin = test::http_call(c.port(2), "POST", "/admin/v1/cluster.members", "{}",
                               bearer(admin_token(c.port(2))));
  INFO(admin.body);
  CHECK(admin.status == 200);
  for (auto name : {"\"n1\"", "\"n2\"", "\"n3\""})
    CHECK(admin.body.find(name) != std::string::npos);
  CHECK(admin.body.find("\"lease_healthy\":true") != std::string::npos);

  // A cluster-scope command asks every node: a session on n1 is listed when asking n3, with the
  // node it is on, and every node answers its part.
  auto ws = std::make_unique<test::ws_client>();
  REQUIRE(ws->connect(c.port(0), "/ws", test::dev_token(c.port(0), "dora")) == 101);
  REQUIRE(test::eventually([&] {
    auto where = test::http_call(c.port(2), "POST", "/admin/v1/users.where",
                                 R"({"user":"dora"})", bearer(admin_token(c.port(2))));
    return where.status == 200 && where.body.find("\"n1\"") != std::string::npos;
  }, 5s));
  auto sessions = test::http_call(c.port(2), "POST", "/admin/v1/sessions.list",
                                  R"({"user":"dora"})", bearer(admin_token(c.port(2))));
  INFO(sessions.body);
  CHECK(sessions.status == 200);
  for (auto name : {"\"node\":\"n1\"", "\"node\":\"n2\"", "\"node\":\"n3\""})
    CHECK(sessions.body.find(name) != std::string::npos);
  CHECK(sessions.body.find("unanswered\":[\"") == std::string::npos);  // nobody silent
  for (uint32_t i = 0; i < 3; ++i) {
    CHECK(metric(c.port(i), "parley_cluster_members") == 3);
    CHECK(metric(c.port(i), "parley_cluster_peers_linked") == 2);
    CHECK(metric(c.port(i), "parley_cluster_partitions_unavailable") == 0);
  }
  // Posts, author indexes and feed users were each written where their partition lives.
  CHECK(c.require_no_foreign_records(2) >= ids.size());
}

TEST_CASE("a killed node is seen down within the lease, its partitions fail fast, and it returns with its data") {
  test_cluster c{3};
  c.require_ready();
  auto token = test::dev_token(c.port(0), "alice");
  // One post on a shard n2 owns, one on a shard another node owns.
  std::optional<std::string> on_n2, elsewhere;
  for (int i = 0; i < 64 && (!on_n2 || !elsewhere); ++i) {
    auto author = test::dev_token(c.port(0), "author" + std::to_string(i));
    auto id = create_post(c.port(0), author, "post");
    (c.owner_of_shard(shard_of_post(id)) == "n2" ? on_n2 : elsewhere) = id;
  }
  REQUIRE(on_n2);
  REQUIRE(elsewhere);

  auto killed_at = std::chrono::steady_clock::now();
  c.nodes[1]->kill();
  REQUIRE(test::eventually([&] {
    return metric(c.port(0), "parley_cluster_members") == 2
           && metric(c.port(2), "parley_cluster_members") == 2;
  }, 10s));
  auto noticed = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - killed_at);
  WARN("peers saw the killed node down after " << noticed.count() << " ms (lease TTL "
                                               << lease_ttl.count() << " ms)");
  CHECK(noticed <= lease_ttl + 1500ms);

  // Its partitions answer unavailable at once, with Retry-After; the others are served.
  auto start = std::chrono::steady_clock::now();
  auto lost = test::http_call(c.port(0), "GET", "/api/v1/posts/" + *on_n2, {}, bearer(token));
  auto took = std::chrono::steady_clock::now() - start;
  INFO(lost.body);
  CHECK(lost.status == 503);
  CHECK(lost.headers.count("retry-after") == 1);
  CHECK(took < 1s);
  auto kept = test::http_call(c.port(2), "GET", "/api/v1/posts/" + *elsewhere, {}, bearer(token));
  CHECK(kept.status == 200);

  // Back on its data directory: its posts are there again, read through another node.
  c.start(1);
  c.require_ready();
  REQUIRE(test::eventually([&] {
    return test::http_call(c.port(0), "GET", "/api/v1/posts/" + *on_n2, {}, bearer(token))
             .status == 200;
  }, 10s));
}

TEST_CASE("a node that cannot renew its lease stops acknowledging writes, and resumes after") {
  test_cluster c{1};
  c.require_ready();
  auto token = test::dev_token(c.port(0), "alice");
  REQUIRE(create_task(c.port(0), token) == 201);

  c.etcd.pause();  // etcd answers nothing: the lease cannot be renewed
  auto refused = [&] { return create_task(c.port(0), token) == 503; };
  // Within two thirds of the TTL (plus a renewal period) writes are refused, and readyz is 503.
  CHECK(test::eventually(refused, lease_ttl));
  CHECK(test::eventually([&] { return !c.ready(0); }, 5s));

  c.etcd.resume();
  CHECK(test::eventually([&] { return c.ready(0); }, 15s));
  CHECK(test::eventually([&] { return !refused(); }, 5s));
}

TEST_CASE("a rolling restart as docs/operations.md describes brings every node back with its data") {
  test_cluster c{3};
  c.require_ready();
  auto token = test::dev_token(c.port(0), "alice");
  std::vector<std::string> posts;
  for (uint32_t i = 0; i < 12; ++i) {
    auto author = test::dev_token(c.port(i % 3), "author" + std::to_string(i));
    posts.push_back(create_post(c.port(i % 3), author, "before the restart"));
  }
  for (uint32_t i = 0; i < 3; ++i) {
    INFO(c.name(i) << " log:\n" << c.nodes[i]->log_tail());
    auto admin = bearer(admin_token(c.port(i)));
    // 1-2: drain, wait until drained (readyz turns 503 at once).
    auto drain = test::http_call(c.port(i), "POST", "/admin/v1/node.drain",
                                 R"({"duration":"1s"})", admin);
    REQUIRE(drain.status == 200);
    CHECK_FALSE(c.ready(i));
    REQUIRE(test::eventually([&] {
      auto status = test::http_call(c.port(i), "POST", "/admin/v1/node.status", "{}", admin);
      return status.body.find("\"state\":\"drained\"") != std::string::npos;
    }, 10s));
    // 3: stop (SIGTERM: a clean exit within the drain timeout); 4-5: start, wait for readyz.
    CHECK(c.nodes[i]->terminate(15s) == 0);
    c.start(i);
    REQUIRE(test::eventually([&] { return c.ready(i); }, 20s));
  }
  // Every post, through every node, after every node was restarted once and has its peer
  // links back (a restart re-links its peers within a reconnect delay; readiness does not wait
  // for that on the nodes that stayed up, docs/cluster.md "Readiness").
  c.require_ready();
  for (uint32_t i = 0; i < 3; ++i)
    REQUIRE(test::eventually([&] { return c.metric(i, "parley_cluster_peers_linked") == 2; }, 5s));
  for (auto& id : posts)
    for (uint32_t i = 0; i < 3; ++i) {
      auto res = test::http_call(c.port(i), "GET", "/api/v1/posts/" + id, {}, bearer(token));
      INFO(c.name(i) << " " << id << ": " << res.body);
      CHECK(res.status == 200);
    }
}
