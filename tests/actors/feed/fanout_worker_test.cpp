// Fan-out in a cluster of two nodes (support/feed_nodes.hpp), on CAF's deterministic
// coordinator: the author's node puts a post into its own followers' timelines and sends the
// other node one delivery with all of that node's followers, which puts it into theirs.
#include "actors/feed/fanout_worker.hpp"
#include "common/clock.hpp"
#include "common/time_ordered_id.hpp"
#include "support/feed_nodes.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace parley;

namespace {

struct fixture : test::feed_nodes {
  // alice (n1) has followers on both nodes: bob (n1), yuri and zoe (n2).
  fixture() {
    n1().tdb.apply([&](storage::write_set& ws) {
      for (auto f : {"bob", "yuri", "zoe"})
        n1().store->put_follow(ws, f, "alice", 1, storage::feed_store::edge_sides::followee);
    });
    auto now = unix_ms();
    n1().ctx->timelines.open("alice", now);
    n1().ctx->timelines.open("bob", now);
    n2().ctx->timelines.open("yuri", now);
    n2().ctx->timelines.open("zoe", now);
  }

  pb::FanoutJob job(const std::string& author, bool fanned_out = true) {
    pb::FanoutJob j;
    j.set_post_id(new_time_ordered_id(unix_ms(), 0, 16));
    j.mutable_post()->set_author_id(author);
    j.mutable_post()->set_text("hello");
    j.mutable_post()->set_created_ms(unix_ms());
    j.mutable_post()->set_fanned_out(fanned_out);
    return j;
  }

  bool in_timeline(test::feed_node& node, const std::string& user, const std::string& post) {
    std::vector<feed::timeline_entry> entries;
    auto now = unix_ms();
    node.ctx->timelines.read(user, now, now - 3'600'000, entries);
    for (auto& e : entries)
      if (e.post_id() == post)
        return true;
    return false;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a post reaches followers on both nodes, one delivery for the other node") {
  auto j = job("alice");
  caf::anon_send(n1().fanout, fanout_atom_v, j);
  run();
  CHECK(in_timeline(n1(), "alice", j.post_id()));  // the author's own feed
  CHECK(in_timeline(n1(), "bob", j.post_id()));
  CHECK(in_timeline(n2(), "yuri", j.post_id()));
  CHECK(in_timeline(n2(), "zoe", j.post_id()));
  // The other node keeps the post for its readers (a copy, for a while).
  auto cached = n2().ctx->posts.find(j.post_id());
  REQUIRE(cached);
  REQUIRE(*cached);
  CHECK((*cached)->text() == "hello");
}

TEST_CASE_METHOD(fixture, "every node learns that an author is pulled from their first pulled post") {
  CHECK_FALSE(n2().ctx->pulled.contains("alice"));
  auto j = job("alice", false);
  j.set_newly_pulled(true);
  caf::anon_send(n1().fanout, fanout_atom_v, j);
  run();
  CHECK(n2().ctx->pulled.contains("alice"));
  auto stored = n2().store->pulled_authors();
  REQUIRE(stored);
  CHECK(std::find(stored->begin(), stored->end(), "alice") != stored->end());
  // Pulled posts are merged at read time, not put into timelines.
  CHECK_FALSE(in_timeline(n2(), "zoe", j.post_id()));
}
