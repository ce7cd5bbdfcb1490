// The follow graph on CAF's deterministic coordinator, in a cluster of two nodes
// (support/feed_nodes.hpp): a user's record, follows and followers live on the user's node; a
// follow between users of two nodes writes each side on its own node, the followee's first.
#include "actors/feed/graph_actor.hpp"
#include "actors/runtime/errors.hpp"
#include "support/feed_nodes.hpp"
#include "support/result_checks.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using parley::test::ok;

namespace {

struct fixture : test::feed_nodes {
  // alice's records are n1's, zoe's n2's.
  caf::error follow(const std::string& graph_of, const std::string& a, const std::string& b,
                    bool on = true) {
    pb::FollowChange msg;
    msg.set_follower_id(a);
    msg.set_followee_id(b);
    msg.set_follow(on);
    auto& node = graph_of == "n1" ? n1() : n2();
    auto answer = ask<>(node.graph, follow_atom_v, msg);
    REQUIRE(answer->arrived());
    return answer->error;
  }

  void touch(test::feed_node& node, const std::string& user) {
    pb::UserRef ref;
    ref.set_user_id(user);
    caf::anon_send(node.graph, touch_atom_v, ref);
    run();
  }

  pb::StoredUser record(test::feed_node& node, const std::string& user) {
    auto found = ok(node.store->user(user));
    REQUIRE(found);
    return *found;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a follow across two nodes writes each side on its own node") {
  touch(n2(), "zoe");
  CHECK_FALSE(follow("n1", "alice", "zoe"));
  // The follower's side on n1: the edge alice follows, her following count.
  CHECK(ok(n1().store->follows("alice", "zoe")));
  CHECK_FALSE(ok(n1().store->followed_by("zoe", "alice")));
  CHECK(record(n1(), "alice").following() == 1);
  // The followee's side on n2: zoe's followers and their count; nothing of alice's.
  CHECK(ok(n2().store->followed_by("zoe", "alice")));
  CHECK_FALSE(ok(n2().store->follows("alice", "zoe")));
  CHECK(record(n2(), "zoe").followers() == 1);
  CHECK_FALSE(ok(n2().store->user("alice")));
  auto followers = ok(n2().store->followers("zoe", {}, 0));
  REQUIRE(followers.size() == 1);
  CHECK(followers[0].user_id == "alice");

  // Idempotent on both sides.
  CHECK_FALSE(follow("n1", "alice", "zoe"));
  CHECK(record(n1(), "alice").following() == 1);
  CHECK(record(n2(), "zoe").followers() == 1);

  // An unfollow undoes both.
  CHECK_FALSE(follow("n1", "alice", "zoe", false));
  CHECK_FALSE(ok(n1().store->follows("alice", "zoe")));
  CHECK_FALSE(ok(n2().store->followed_by("zoe", "alice")));
  CHECK(record(n1(), "alice").following() == 0);
  CHECK(record(n2(), "zoe").followers() == 0);
}

TEST_CASE_METHOD(fixture, "following a user the other node has never seen is not_found and writes nothing") {
  auto err = follow("n1", "alice", "yuri");
  REQUIRE(err);
  CHECK(to_fault(err).code == errc::not_found);
  CHECK_FALSE(ok(n1().store->follows("alice", "yuri")));
  CHECK_FALSE(ok(n1().store->user("alice")));
}

TEST_CASE_METHOD(fixture, "a follow is taken by the follower's node only") {
  touch(n2(), "zoe");
  auto err = follow("n2", "alice", "zoe");  // alice's records are n1's
  REQUIRE(err);
  CHECK(to_fault(err).code == errc::unavailable);
  CHECK_FALSE(ok(n2().store->followed_by("zoe", "alice")));
}

TEST_CASE_METHOD(fixture, "counts and profiles come from the user's node") {
  touch(n2(), "zoe");
  touch(n1(), "bob");
  REQUIRE_FALSE(follow("n1", "alice", "zoe"));
  REQUIRE_FALSE(follow("n1", "bob", "zoe"));
  REQUIRE_FALSE(follow("n2", "zoe", "bob"));
  pb::UserRef zoe;
  zoe.set_user_id("zoe");
  auto counts = ask<pb::UserProfile>(n2().graph, count_atom_v, zoe);
  REQUIRE(counts->value);
  CHECK(std::get<0>(*counts->value).followers() == 2);
  CHECK(std::get<0>(*counts->value).following() == 1);
  pb::UserRef bob;
  bob.set_user_id("bob");
  auto profile = ask<pb::UserProfile>(n1().graph, read_atom_v, bob);
  REQUIRE(profile->value);
  CHECK(std::get<0>(*profile->value).followers() == 1);
  CHECK(std::get<0>(*profile->value).following() == 1);
}
