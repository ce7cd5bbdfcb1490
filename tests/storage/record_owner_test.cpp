// Every record a store writes is attributed, from its key alone, to the entity that owns it: the
// attribution decides which partition a record travels with, so a store whose key layout changes
// without record_owner.cpp following fails here.
#include "storage/chat_store.hpp"
#include "storage/feed_store.hpp"
#include "storage/link_store.hpp"
#include "storage/record_owner.hpp"
#include "storage/task_store.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace parley;
using namespace parley::storage;
using kind = record_owner::kind;

namespace {

// The distinct owners of the records `ws` writes or deletes; fails the test on any key that does
// not decode.
std::set<std::pair<kind, std::string>> owners_of(const write_set& ws) {
  std::set<std::pair<kind, std::string>> out;
  for (auto& op : ws.ops()) {
    auto owner = owner_of_record(op.fam, op.key);
    INFO("family " << family_specs()[static_cast<size_t>(op.fam)].name);
    REQUIRE(owner);
    out.emplace(owner->what, owner->id);
  }
  return out;
}

std::set<std::pair<kind, std::string>> only(kind k, std::string id) {
  return {{k, std::move(id)}};
}

struct fixture {
  test::temp_db t;
  chat_store chat{*t.db};
  feed_store feed{*t.db};
  task_store tasks{*t.db};
  link_store links{*t.db};
};

} // namespace

TEST_CASE_METHOD(fixture, "chat records belong to their conversation, devices and presence to the node") {
  write_set ws;
  conversation_record rec;
  rec.group = true;
  rec.members = {"alice", "bob"};
  chat.put_conversation(ws, "g:team", rec, {"alice", "bob"}, {"carol"});
  chat.put_message(ws, "g:team", chat_message{7, "alice", "m-1", "hi", 1000});
  chat.put_pending(ws, "g:team", 7, {"alice", "bob"});
  chat.put_delivered(ws, "bob", "phone", "g:team", 7);
  chat.put_read(ws, "bob", "g:team", 7);
  chat.clear_pending(ws, "alice", "g:team");
  CHECK(owners_of(ws) == only(kind::conversation, "g:team"));

  write_set local;
  chat.put_device(local, "bob", "phone");
  chat.put_last_seen(local, "bob", 1000);
  CHECK(owners_of(local) == only(kind::node, ""));
}

TEST_CASE_METHOD(fixture, "feed records belong to the user, the post or the author they are filed under") {
  pb::StoredPost post;
  post.set_author_id("ann");
  post.set_created_ms(1000);
  write_set posts;
  feed.put_post(posts, "p-1", post);
  feed.update_post(posts, "p-1", post);
  feed.put_like(posts, "p-1", "bob");
  feed.erase_like(posts, "p-1", "carl");
  feed.put_comment(posts, "p-1", "c-1", pb::StoredComment{});
  CHECK(owners_of(posts) == only(kind::post, "p-1"));

  write_set erased;
  t.apply([&](write_set& w) {
    feed.put_like(w, "p-1", "bob");
    feed.put_comment(w, "p-1", "c-1", pb::StoredComment{});
  });
  REQUIRE_FALSE(feed.erase_post(erased, "p-1", post));
  CHECK(owners_of(erased) == only(kind::post, "p-1"));

  write_set author;
  feed.put_author_stats(author, "ann", pb::AuthorStats{});
  feed.put_affinity(author, "bob", "ann", 3);
  feed.put_affinity(author, "carl", "ann", 0);
  CHECK(owners_of(author) == only(kind::author, "ann"));

  write_set graph;
  feed.put_user(graph, "bob", pb::StoredUser{});
  feed.put_follow(graph, "bob", "ann", 1000, feed_store::edge_sides::follower);
  feed.erase_follow(graph, "bob", "dan", feed_store::edge_sides::follower);
  CHECK(owners_of(graph) == only(kind::user, "bob"));

  write_set followee_side;
  feed.put_follow(followee_side, "bob", "ann", 1000, feed_store::edge_sides::followee);
  CHECK(owners_of(followee_side) == only(kind::user, "ann"));

  write_set pulled;
  feed.mark_pulled(pulled, "ann");
  CHECK(owners_of(pulled) == only(kind::node, ""));
}

TEST_CASE_METHOD(fixture, "task records belong to their task, their shard or their idempotency key") {
  pb::StoredTask created;
  created.set_id("t-1");
  created.set_status(pb::Task::PENDING);
  created.set_next_run_at_ms(1000);
  created.set_owner("alice");
  created.set_idempotency_key("order-42");
  created.set_run_count(1);
  pb::StoredTask done = created;
  done.set_status(pb::Task::COMPLETED);
  done.set_finished_at_ms(2000);

  write_set ws;
  tasks.put(ws, 3, nullptr, created);
  tasks.put(ws, 3, &created, done);
  tasks.put_run(ws, "t-1", 0, pb::TaskRun{});
  tasks.erase(ws, 3, done);
  // The due entry is filed under the shard, the idempotency key under itself (a keyed create
  // goes to the key's shard), everything else under the task.
  auto key = task_store::scoped_key("alice", "order-42");
  CHECK(owners_of(ws) == std::set<std::pair<kind, std::string>>{
                           {kind::task, "t-1"}, {kind::task_shard, "3"}, {kind::task_key, key}});
}

TEST_CASE_METHOD(fixture, "link records belong to their short key") {
  pb::StoredLink link;
  link.set_long_url("https://example.com/");
  link.set_expires_at_ms(5000);
  write_set ws;
  links.reserve(ws, "Ab3dE9x");
  links.put_link(ws, "Ab3dE9x", link);
  links.put_stats(ws, "Ab3dE9x", pb::StoredLinkStats{});
  links.put_tombstone(ws, "Ab3dE9x", link, pb::StoredLink::DELETED);
  CHECK(owners_of(ws) == only(kind::link, "Ab3dE9x"));
}

TEST_CASE("a key that does not decode is an error, never a guess") {
  CHECK_FALSE(owner_of_record(family::messages, "no-terminator"));
  CHECK_FALSE(owner_of_record(family::cursors, std::string{"x"}));
  CHECK_FALSE(owner_of_record(family::conversations, ""));
  auto node = owner_of_record(family::meta, "node_id");
  REQUIRE(node);
  CHECK(node->what == kind::node);
}
