#include "cluster/placement/routing_table.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

using namespace parley::cluster;

namespace {

// "node/session/device" for each session of `user`, in table order.
std::vector<std::string> sessions(const routing_table& t, const std::string& user) {
  std::vector<std::string> out;
  for (auto& s : t.sessions_of(user))
    out.push_back(s.node_id + "/" + s.session_id + "/" + s.device_id);
  return out;
}

// A delta drained from `t` after one local change.
routing_delta next_delta(routing_table& t, const std::string& user, const std::string& session) {
  t.add_local(user, session, "d-" + session);
  auto delta = t.drain();
  REQUIRE(delta);
  return *delta;
}

} // namespace

TEST_CASE("local sessions are seen at once and published as one delta per batch") {
  routing_table n1{"n1", 7};
  CHECK_FALSE(n1.has_pending());
  CHECK_FALSE(n1.drain());
  for (int i = 0; i < 100; ++i)
    n1.add_local("user-" + std::to_string(i), "s" + std::to_string(i), "phone");
  CHECK(n1.online("user-42"));  // local lookups do not wait for the batch
  CHECK(sessions(n1, "user-42") == std::vector<std::string>{"n1/s42/phone"});
  CHECK(n1.has_pending());
  auto delta = n1.drain();
  REQUIRE(delta);
  CHECK(delta->origin == "n1");
  CHECK(delta->incarnation == 7);
  CHECK(delta->version == 1);
  CHECK(delta->changes.size() == 100);
  CHECK_FALSE(n1.has_pending());
  CHECK_FALSE(n1.drain());  // nothing new: no delta, no version used
  n1.remove_local("user-42", "s42");
  auto second = n1.drain();
  REQUIRE(second);
  CHECK(second->version == 2);
  REQUIRE(second->changes.size() == 1);
  CHECK(second->changes[0].op == route_change::kind::remove);
  CHECK(second->changes[0].entry.user_id == "user-42");
  CHECK(second->changes[0].entry.session_id == "s42");
  CHECK(n1.counters().entries == 99);
}

TEST_CASE("a batch carries each session's net effect") {
  routing_table n1{"n1", 1};
  // Connected and gone within one batch: peers never hear of it.
  n1.add_local("alice", "s1", "phone");
  n1.remove_local("alice", "s1");
  CHECK_FALSE(n1.drain());
  CHECK(n1.position_of("n1")->version == 0);

  n1.add_local("alice", "s1", "phone");
  REQUIRE(n1.drain());
  // A reconnect with the same session id on another device: one add, the new device.
  n1.remove_local("alice", "s1");
  n1.add_local("alice", "s1", "laptop");
  auto delta = n1.drain();
  REQUIRE(delta);
  REQUIRE(delta->changes.size() == 1);
  CHECK(delta->changes[0].op == route_change::kind::add);
  CHECK(delta->changes[0].entry.device_id == "laptop");
  // Back to what peers already know: nothing to send.
  n1.add_local("alice", "s1", "phone");
  n1.add_local("alice", "s1", "laptop");
  n1.remove_local("bob", "never-there");
  CHECK_FALSE(n1.drain());
  CHECK(sessions(n1, "alice") == std::vector<std::string>{"n1/s1/laptop"});
}

TEST_CASE("a peer applies deltas in version order and sees the sessions of every node") {
  routing_table n1{"n1", 1};
  routing_table n2{"n2", 1};
  n2.add_local("alice", "a2", "laptop");
  CHECK(n2.apply(next_delta(n1, "alice", "a1")) == apply_result::applied);
  CHECK(n2.apply(next_delta(n1, "bob", "b1")) == apply_result::applied);
  CHECK(sessions(n2, "alice") == std::vector<std::string>{"n2/a2/laptop", "n1/a1/d-a1"});
  CHECK(sessions(n2, "bob") == std::vector<std::string>{"n1/b1/d-b1"});
  n1.remove_local("alice", "a1");
  CHECK(n2.apply(*n1.drain()) == apply_result::applied);
  CHECK(sessions(n2, "alice") == std::vector<std::string>{"n2/a2/laptop"});
  CHECK(n2.position_of("n1")->version == 3);
  auto c = n2.counters();
  CHECK(c.entries == 2);
  CHECK(c.deltas_applied == 3);
  CHECK(c.gaps == 0);
}

TEST_CASE("a version gap asks for a snapshot, which brings the peer up to date") {
  routing_table n1{"n1", 1};
  routing_table n2{"n2", 1};
  auto v1 = next_delta(n1, "alice", "a1");
  auto v2 = next_delta(n1, "bob", "b1");
  auto v3 = next_delta(n1, "carol", "c1");
  CHECK(n2.apply(v1) == apply_result::applied);
  CHECK(n2.apply(v3) == apply_result::needs_snapshot);  // v2 was lost
  CHECK_FALSE(n2.online("carol"));                      // nothing of a gapped delta is applied
  CHECK(n2.counters().gaps == 1);
  CHECK(n2.apply(n1.local_snapshot()) == apply_result::applied);
  CHECK(n2.online("bob"));
  CHECK(n2.online("carol"));
  CHECK(n2.counters().snapshots == 1);
  // v2 arriving late is already in the snapshot; the next delta follows it.
  CHECK(n2.apply(v2) == apply_result::ignored);
  CHECK(n2.apply(next_delta(n1, "dave", "d1")) == apply_result::applied);
  CHECK(n2.counters().entries == 4);
}

TEST_CASE("a joining node starts from snapshots, and an unknown origin's first delta must be 1") {
  routing_table n1{"n1", 1};
  next_delta(n1, "alice", "a1");
  auto v2 = next_delta(n1, "bob", "b1");
  routing_table joiner{"n4", 1};
  CHECK(joiner.apply(v2) == apply_result::needs_snapshot);
  CHECK(joiner.apply(n1.local_snapshot()) == apply_result::applied);
  CHECK(sessions(joiner, "alice") == std::vector<std::string>{"n1/a1/d-a1"});
  CHECK(joiner.position_of("n1")->version == 2);
  CHECK_FALSE(joiner.position_of("n3"));
}

TEST_CASE("a snapshot taken with changes pending is the state of the last drain") {
  routing_table n1{"n1", 1};
  routing_table n2{"n2", 1};
  n1.add_local("alice", "a1", "phone");
  n1.drain();
  n1.remove_local("alice", "a1");  // pending
  n1.add_local("bob", "b1", "phone");  // pending
  auto snap = n1.local_snapshot();
  CHECK(snap.version == 1);
  REQUIRE(snap.entries.size() == 1);
  CHECK(snap.entries[0].user_id == "alice");
  CHECK(n2.apply(snap) == apply_result::applied);
  CHECK(n2.apply(*n1.drain()) == apply_result::applied);  // v2 follows the snapshot
  CHECK_FALSE(n2.online("alice"));
  CHECK(n2.online("bob"));
}

TEST_CASE("an older snapshot or a duplicate delta of the same incarnation is ignored") {
  routing_table n1{"n1", 1};
  routing_table n2{"n2", 1};
  auto v1 = next_delta(n1, "alice", "a1");
  auto old_snapshot = n1.local_snapshot();
  CHECK(n2.apply(v1) == apply_result::applied);
  CHECK(n2.apply(next_delta(n1, "bob", "b1")) == apply_result::applied);
  CHECK(n2.apply(v1) == apply_result::ignored);
  CHECK(n2.apply(old_snapshot) == apply_result::ignored);
  CHECK(n2.online("bob"));  // the old snapshot did not roll the table back
  CHECK(n2.counters().ignored == 2);
}

TEST_CASE("a restarted origin's new incarnation replaces its entries and the old one is ignored") {
  routing_table before_restart{"n1", 1};
  routing_table n2{"n2", 1};
  CHECK(n2.apply(next_delta(before_restart, "alice", "a1")) == apply_result::applied);
  CHECK(n2.apply(next_delta(before_restart, "bob", "b1")) == apply_result::applied);
  auto late = next_delta(before_restart, "carol", "c1");

  routing_table after_restart{"n1", 2};
  CHECK(n2.apply(next_delta(after_restart, "dave", "d1")) == apply_result::applied);
  CHECK_FALSE(n2.online("alice"));  // the sessions of the old process are gone
  CHECK_FALSE(n2.online("bob"));
  CHECK(n2.online("dave"));
  CHECK(n2.position_of("n1")->incarnation == 2);
  CHECK(n2.apply(late) == apply_result::ignored);
  CHECK(n2.apply(before_restart.local_snapshot()) == apply_result::ignored);
  CHECK_FALSE(n2.online("carol"));
  CHECK(n2.counters().entries == 1);
}

TEST_CASE("a newer incarnation seen past its first delta clears the old entries and asks") {
  routing_table before_restart{"n1", 1};
  routing_table n2{"n2", 1};
  CHECK(n2.apply(next_delta(before_restart, "alice", "a1")) == apply_result::applied);
  routing_table after_restart{"n1", 2};
  next_delta(after_restart, "bob", "b1");
  CHECK(n2.apply(next_delta(after_restart, "carol", "c1")) == apply_result::needs_snapshot);
  CHECK_FALSE(n2.online("alice"));
  CHECK(n2.apply(after_restart.local_snapshot()) == apply_result::applied);
  CHECK(n2.online("bob"));
  CHECK(n2.online("carol"));
}

TEST_CASE("a down member's entries are dropped at once and do not come back") {
  routing_table n1{"n1", 5};
  routing_table n2{"n2", 1};
  routing_table n3{"n3", 1};
  for (int i = 0; i < 50; ++i)
    n1.add_local("user-" + std::to_string(i), "s" + std::to_string(i), "phone");
  n3.add_local("user-1", "x1", "laptop");
  n2.apply(*n1.drain());
  n2.apply(*n3.drain());
  CHECK(n2.counters().entries == 51);
  n2.drop("n1");
  CHECK(n2.counters().entries == 1);
  CHECK(sessions(n2, "user-1") == std::vector<std::string>{"n3/x1/laptop"});
  CHECK_FALSE(n2.online("user-2"));
  CHECK_FALSE(n2.position_of("n1"));
  // Cut off from etcd but not from its peers, n1 keeps talking: none of it is taken.
  CHECK(n2.apply(next_delta(n1, "zoe", "z1")) == apply_result::ignored);
  CHECK(n2.apply(n1.local_snapshot()) == apply_result::ignored);
  CHECK_FALSE(n2.online("zoe"));
  // Restarted, it returns with a newer incarnation.
  routing_table n1_again{"n1", 6};
  CHECK(n2.apply(next_delta(n1_again, "zoe", "z1")) == apply_result::applied);
  CHECK(n2.online("zoe"));
  n2.drop("n2");  // never drops itself
  n2.drop("n9");  // nor fails on an unknown member
}

TEST_CASE("own deltas and snapshots coming back are ignored") {
  routing_table n1{"n1", 1};
  auto delta = next_delta(n1, "alice", "a1");
  CHECK(n1.apply(delta) == apply_result::ignored);
  CHECK(n1.apply(n1.local_snapshot()) == apply_result::ignored);
  CHECK(n1.counters().entries == 1);
}

TEST_CASE("sessions of many users are grouped by node, one group per node") {
  routing_table n1{"n1", 1};
  routing_table n2{"n2", 1};
  routing_table n3{"n3", 1};
  n1.add_local("alice", "a1", "phone");
  n2.add_local("alice", "a2", "laptop");
  n2.add_local("bob", "b2", "phone");
  n3.add_local("carol", "c3", "phone");
  n1.apply(*n2.drain());
  n1.apply(*n3.drain());
  auto groups = n1.sessions_by_node({"alice", "bob", "carol", "nobody", "alice"});
  REQUIRE(groups.size() == 3);
  CHECK(groups["n1"].size() == 1);
  REQUIRE(groups["n2"].size() == 2);  // alice and bob on n2: one message to n2
  CHECK(groups["n2"][0].user_id == "alice");
  CHECK(groups["n2"][0].session_id == "a2");
  CHECK(groups["n2"][1].user_id == "bob");
  CHECK(groups["n2"][1].device_id == "phone");
  CHECK(groups["n3"].size() == 1);
  CHECK(n1.sessions_by_node({"nobody"}).empty());
}

TEST_CASE("a member that regains its lease with the same incarnation is taken back by snapshot") {
  routing_table n1{"n1", 5};
  routing_table n2{"n2", 1};
  n1.add_local("alice", "a1", "phone");
  n2.apply(*n1.drain());
  n2.drop("n1");
  CHECK(n2.apply(n1.local_snapshot()) == apply_result::ignored);
  // Listed again (its lease regained, its process the same): its snapshot counts, then deltas.
  n2.readmit("n1");
  CHECK(n2.apply(n1.local_snapshot()) == apply_result::applied);
  CHECK(sessions(n2, "alice") == std::vector<std::string>{"n1/a1/phone"});
  CHECK(n2.apply(next_delta(n1, "bob", "b1")) == apply_result::applied);
  CHECK(n2.online("bob"));
  n2.readmit("n7");  // a member never dropped: nothing to do
}

TEST_CASE("the users of an origin are those its deltas, snapshots and drop may change") {
  routing_table n1{"n1", 1};
  routing_table n2{"n2", 1};
  n1.add_local("alice", "a1", "phone");
  n1.add_local("bob", "b1", "phone");
  n2.add_local("alice", "a2", "laptop");
  n2.apply(*n1.drain());
  auto users = n2.users_of("n1");
  std::sort(users.begin(), users.end());
  CHECK(users == std::vector<std::string>{"alice", "bob"});
  CHECK(n2.users_of("n2") == std::vector<std::string>{"alice"});
  CHECK(n2.users_of("n9").empty());
  n1.remove_local("bob", "b1");
  n2.apply(*n1.drain());
  CHECK(n2.users_of("n1") == std::vector<std::string>{"alice"});
}
