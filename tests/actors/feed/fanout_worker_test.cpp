// Fan-out in a cluster of two nodes (support/feed_nodes.hpp), on CAF's deterministic
// coordinator: the author's node puts a post into its own followers' timelines and sends the
// other node one delivery with all of that node's followers, which puts it into theirs; live
// items reach subscribers connected to either node, one message per node that has sessions.
#include "actors/chat/cluster_view.hpp"
#include "actors/connection/outbound_sink.hpp"
#include "actors/connection/pushed_frame.hpp"
#include "actors/feed/fanout_worker.hpp"
#include "common/metrics.hpp"
#include "common/clock.hpp"
#include "common/time_ordered_id.hpp"
#include "support/feed_nodes.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace parley;

namespace {

// Records the frames written to one connection.
class recording_sink : public outbound_sink {
public:
  void send(const pb::ServerFrame& frame, wire_format) override { frames.push_back(frame); }
  void send_shared(const std::shared_ptr<const pushed_frame>& frame, wire_format f) override {
    send(frame->frame(), f);
  }
  void close(uint16_t, std::string) override {}
  wire_format preferred_format() const override { return wire_format::json; }
  size_t outbound_room() const override { return 1 << 20; }

  std::vector<std::string> feed_items() const {
    std::vector<std::string> out;
    for (auto& f : frames)
      if (f.has_feed_item())
        out.push_back(f.feed_item().post().post_id());
    return out;
  }

  std::vector<pb::ServerFrame> frames;
};

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

TEST_CASE_METHOD(fixture, "live items reach subscribers connected to the node that does not hold "
                          "their records, one message per node") {
  // bob and carl (records on n1) are connected to n2, yuri (records on n2) to n1: each node's
  // replicated routing table knows the sessions of the other.
  n1().tdb.apply([&](storage::write_set& ws) {
    n1().store->put_follow(ws, "carl", "alice", 1, storage::feed_store::edge_sides::followee);
  });
  n1().ctx->timelines.open("carl", unix_ms());
  auto view1 = std::make_shared<chat::cluster_view>("n1");
  auto view2 = std::make_shared<chat::cluster_view>("n2");
  view1->set_sessions("bob", {{"n2", "s-bob", "phone"}, {"n2", "s-bob2", "laptop"}});
  view1->set_sessions("carl", {{"n2", "s-carl", "phone"}});
  view2->set_sessions("yuri", {{"n1", "s-yuri", "phone"}});
  view2->set_sessions("zoe", {{"n1", "s-zoe", "phone"}});  // connected, never subscribed
  n1().ctx->sessions = view1;
  n2().ctx->sessions = view2;
  auto bob = std::make_shared<recording_sink>();
  auto bob2 = std::make_shared<recording_sink>();
  auto carl = std::make_shared<recording_sink>();
  auto yuri = std::make_shared<recording_sink>();
  n2().ctx->live.subscribe("bob", "s-bob", bob);
  n2().ctx->live.subscribe("bob", "s-bob2", bob2);
  n2().ctx->live.subscribe("carl", "s-carl", carl);
  n1().ctx->live.subscribe("yuri", "s-yuri", yuri);
  auto& sent = metrics::global().get_counter("feed_live_batches_sent_total", "");
  auto before = sent.value();

  auto j = job("alice");
  caf::anon_send(n1().fanout, fanout_atom_v, j);
  run();
  // Each subscribed connection gets the item once, wherever the user's records are.
  CHECK(bob->feed_items() == std::vector<std::string>{j.post_id()});
  CHECK(bob2->feed_items() == std::vector<std::string>{j.post_id()});
  CHECK(carl->feed_items() == std::vector<std::string>{j.post_id()});
  CHECK(yuri->feed_items() == std::vector<std::string>{j.post_id()});
  // n1 sent n2 one message for bob's and carl's three connections; n2 sent n1 one for yuri's
  // (zoe's session is on n1 as well: the same message, and n1 has no subscription of hers).
  CHECK(sent.value() - before == 2);

  // A user who disconnected from n2 is no longer in n1's table: nothing is sent for them.
  view1->set_sessions("bob", {});
  view1->set_sessions("carl", {});
  view2->set_sessions("yuri", {});
  view2->set_sessions("zoe", {});
  before = sent.value();
  auto k = job("alice");
  caf::anon_send(n1().fanout, fanout_atom_v, k);
  run();
  CHECK(sent.value() == before);
  CHECK(bob->feed_items().size() == 1);
}
