// Membership against a real etcd: members see each other join and leave, a stalled etcd turns
// the lease unhealthy (and healthy again), a lost lease is replaced, broken records are skipped.
#include "cluster/coordinator_keys.hpp"
#include "cluster/etcd_client.hpp"
#include "cluster/membership.hpp"
#include "support/etcd_server.hpp"
#include "support/eventually.hpp"

#include <catch2/catch.hpp>

#include <mutex>

using namespace parley;
using namespace parley::cluster;
using parley::test::etcd_server;
using parley::test::eventually;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

membership_options member(const etcd_server& etcd, const std::string& node_id) {
  membership_options opts;
  opts.etcd.endpoints = {etcd.endpoint()};
  opts.cluster_id = "test";
  opts.self.node_id = node_id;
  opts.self.advertise = "127.0.0.1:" + std::to_string(7000 + node_id.back());
  opts.self.incarnation = 42;
  opts.self.started_at_ms = 1700000000000;
  return opts;
}

// What a membership reported, read from the test's thread.
class reports {
public:
  membership::members_handler handler() {
    return [this](const member_view& v) {
      std::lock_guard<std::mutex> lock{mutex_};
      views_.push_back(v);
    };
  }

  // The node ids of the last report.
  std::vector<std::string> last() const {
    std::lock_guard<std::mutex> lock{mutex_};
    std::vector<std::string> ids;
    if (!views_.empty())
      for (auto& m : views_.back().members)
        ids.push_back(m.node_id);
    return ids;
  }

  std::vector<member_view> all() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return views_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<member_view> views_;
};

using ids = std::vector<std::string>;

} // namespace

TEST_CASE("two members see each other join, and one leave well within the lease TTL") {
  etcd_server etcd;
  reports seen_by_1;
  reports seen_by_2;
  membership n1{member(etcd, "n1"), seen_by_1.handler()};
  membership n2{member(etcd, "n2"), seen_by_2.handler()};

  REQUIRE_FALSE(n1.join());
  CHECK(eventually([&] { return seen_by_1.last() == ids{"n1"}; }, 5000ms));
  CHECK(n1.lease_healthy());

  REQUIRE_FALSE(n2.join());
  CHECK(eventually([&] { return seen_by_2.last() == ids{"n1", "n2"}; }, 5000ms));
  CHECK(eventually([&] { return seen_by_1.last() == ids{"n1", "n2"}; }, 5000ms));
  auto view = n1.members();
  REQUIRE(view.members.size() == 2);
  CHECK(view.members[1].advertise == member(etcd, "n2").self.advertise);
  CHECK(view.members[1].incarnation == 42);
  CHECK(view.members[1].started_at_ms == 1700000000000);
  CHECK(view.revision > 0);

  // A clean leave revokes the lease: peers see it at once, not after the TTL (3 s).
  auto left_at = clock_type::now();
  REQUIRE_FALSE(n2.leave());
  CHECK_FALSE(n2.joined());
  CHECK_FALSE(n2.lease_healthy());
  CHECK(eventually([&] { return seen_by_1.last() == ids{"n1"}; }, 5000ms));
  CHECK(clock_type::now() - left_at < 1000ms);

  // Every report carries a newer revision than the one before.
  auto all = seen_by_1.all();
  for (size_t i = 1; i < all.size(); ++i)
    CHECK(all[i].revision > all[i - 1].revision);
  CHECK(n1.stats().member_changes == all.size());
  CHECK(n1.stats().etcd.round_trips > 0);
}

TEST_CASE("a node whose etcd stalls turns unhealthy before its lease can expire, then recovers") {
  etcd_server etcd;
  reports seen;
  auto opts = member(etcd, "n1");
  membership n1{opts, seen.handler()};
  REQUIRE_FALSE(n1.join());
  REQUIRE(n1.lease_healthy());
  // Renewed every ttl/3 (1 s): healthy for longer than the TTL while etcd answers.
  CHECK_FALSE(eventually([&] { return !n1.lease_healthy(); }, 3500ms));

  etcd.pause();
  auto paused_at = clock_type::now();
  // Unhealthy within ttl*2/3 of the last renewal, which was at most ttl/3 before the pause.
  CHECK(eventually([&] { return !n1.lease_healthy(); }, 3000ms));
  CHECK(clock_type::now() - paused_at <= opts.lease_ttl);
  // Health follows the clock; the renewal that meets the stalled etcd fails at its own timeout,
  // which may come after.
  CHECK(eventually([&] { return n1.stats().lease.renewal_failures >= 1; }, 5000ms));

  etcd.resume();
  CHECK(eventually([&] { return n1.lease_healthy(); }, 8000ms));
  CHECK(eventually([&] { return seen.last() == ids{"n1"}; }, 5000ms));
}

TEST_CASE("a lease that etcd let go is replaced and the member key put back") {
  etcd_server etcd;
  reports seen;
  std::mutex changes_mutex;
  std::vector<lease_change> changes;
  membership n1{member(etcd, "n1"), seen.handler(), [&](const lease_change& c) {
    std::lock_guard<std::mutex> lock{changes_mutex};
    changes.push_back(c);
  }};
  REQUIRE_FALSE(n1.join());
  etcd_options direct;
  direct.endpoints = {etcd.endpoint()};
  etcd_client admin{direct};
  auto key = member_key("test", "n1");
  auto before = admin.get(key);
  REQUIRE(before);
  REQUIRE(before->has_value());
  auto old_lease = (*before)->lease;

  // As when etcd expired it while the node was cut off.
  REQUIRE_FALSE(admin.revoke_lease(old_lease));
  CHECK(eventually([&] {
    std::lock_guard<std::mutex> lock{changes_mutex};
    return changes.size() >= 2;
  }, 5000ms));
  {
    std::lock_guard<std::mutex> lock{changes_mutex};
    REQUIRE(changes.size() >= 2);
    CHECK(changes[0].what == lease_change::kind::lost);
    CHECK(changes[0].lease == old_lease);
    CHECK(changes[1].what == lease_change::kind::regained);
    CHECK(changes[1].lease != old_lease);
  }
  CHECK(n1.lease_healthy());
  auto after = admin.get(key);
  REQUIRE(after);
  REQUIRE(after->has_value());
  CHECK((*after)->lease != old_lease);
  CHECK(n1.stats().lease.leases_lost == 1);
  CHECK(n1.stats().lease.regrants == 1);
  CHECK(eventually([&] { return seen.last() == ids{"n1"}; }, 5000ms));
}

TEST_CASE("a member key whose value is no member record is skipped and counted") {
  etcd_server etcd;
  reports seen;
  membership n1{member(etcd, "n1"), seen.handler()};
  REQUIRE_FALSE(n1.join());
  etcd_options direct;
  direct.endpoints = {etcd.endpoint()};
  etcd_client admin{direct};
  REQUIRE(admin.put(member_key("test", "junk"), std::string{"\xff\xff\xff", 3}));
  CHECK(eventually([&] { return n1.stats().bad_records >= 1; }, 5000ms));
  CHECK(seen.last() == ids{"n1"});
}

TEST_CASE("join fails with the etcd error when etcd cannot be reached") {
  membership_options opts;
  opts.etcd.endpoints = {"http://127.0.0.1:1"};
  opts.etcd.call_timeout = 500ms;
  opts.cluster_id = "test";
  opts.self.node_id = "n1";
  membership n1{opts, [](const member_view&) {}};
  auto f = n1.join();
  CHECK(f.code == errc::unavailable);
  CHECK_FALSE(n1.joined());
  CHECK_FALSE(n1.lease_healthy());
}
