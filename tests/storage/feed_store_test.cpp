// The feed store: the follow graph both ways, the author index newest first, and a post's
// likes and comments going with it.
#include "storage/feed_store.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::storage;

namespace {

void apply(engine& db, const std::function<void(write_set&)>& fill) {
  write_set ws;
  fill(ws);
  REQUIRE_FALSE(db.write({&ws}, false));
}

pb::StoredPost post(const std::string& author, int64_t ms, bool fanned = true) {
  pb::StoredPost p;
  p.set_author_id(author);
  p.set_text("t");
  p.set_created_ms(ms);
  p.set_fanned_out(fanned);
  return p;
}

std::vector<std::string> users(const std::vector<feed_store::follow_entry>& es) {
  std::vector<std::string> out;
  for (auto& e : es)
    out.push_back(e.user_id);
  return out;
}

} // namespace

TEST_CASE("follow edges are stored both ways and page by user id") {
  test::temp_db t;
  feed_store store{*t.db};
  apply(*t.db, [&](write_set& ws) {
    store.put_follow(ws, "bob", "alice", 10);
    store.put_follow(ws, "carol", "alice", 20);
    store.put_follow(ws, "dave", "alice", 30);
    store.put_follow(ws, "bob", "carol", 40);
    // A user id that is a prefix of another must not bleed into it.
    store.put_follow(ws, "bob2", "alice2", 50);
  });
  fault err;
  CHECK(users(store.followers("alice", {}, 10, err)) == std::vector<std::string>{"bob", "carol", "dave"});
  CHECK(users(store.followers("alice", "bob", 1, err)) == std::vector<std::string>{"carol"});
  CHECK(users(store.followers("alice", "carol", 10, err)) == std::vector<std::string>{"dave"});
  CHECK(users(store.following("bob", {}, 10, err)) == std::vector<std::string>{"alice", "carol"});
  CHECK(store.followers("alice", {}, 10, err)[1].since_ms == 20);
  CHECK(store.follows("bob", "alice", err));
  CHECK_FALSE(store.follows("alice", "bob", err));
  apply(*t.db, [&](write_set& ws) { store.erase_follow(ws, "bob", "alice"); });
  CHECK_FALSE(store.follows("bob", "alice", err));
  CHECK(users(store.followers("alice", {}, 10, err)) == std::vector<std::string>{"carol", "dave"});
  CHECK(users(store.following("bob", {}, 10, err)) == std::vector<std::string>{"carol"});
  CHECK_FALSE(err);
}

TEST_CASE("an author's posts come newest first, pulled ones on request") {
  test::temp_db t;
  feed_store store{*t.db};
  apply(*t.db, [&](write_set& ws) {
    store.put_post(ws, "p1", post("alice", 100));
    store.put_post(ws, "p2", post("alice", 300, false));
    store.put_post(ws, "p3", post("alice", 200));
    store.put_post(ws, "q1", post("alice2", 999));
  });
  fault err;
  auto all = store.recent_posts("alice", 10, false, err);
  REQUIRE(all.size() == 3);
  CHECK(all[0].post_id == "p2");
  CHECK(all[0].created_ms == 300);
  CHECK_FALSE(all[0].fanned_out);
  CHECK(all[2].post_id == "p1");
  CHECK(store.recent_posts("alice", 2, false, err).size() == 2);
  auto pulled = store.recent_posts("alice", 10, true, err);
  REQUIRE(pulled.size() == 1);
  CHECK(pulled[0].post_id == "p2");
  CHECK_FALSE(err);
}

TEST_CASE("erasing a post removes its index entry, likes and comments") {
  test::temp_db t;
  feed_store store{*t.db};
  auto p = post("alice", 100);
  pb::StoredComment c;
  c.set_author_id("bob");
  c.set_text("nice");
  apply(*t.db, [&](write_set& ws) {
    store.put_post(ws, "p1", p);
    store.put_like(ws, "p1", "bob");
    store.put_comment(ws, "p1", "c1", c);
    store.put_comment(ws, "p1", "c2", c);
    store.put_like(ws, "p10", "bob");  // another post whose id extends this one
  });
  fault err;
  CHECK(store.liked("p1", "bob", err));
  auto comments = store.comments("p1", {}, 10, err);
  CHECK(comments.size() == 2);
  CHECK(store.comments("p1", "c1", 10, err).size() == 1);
  write_set ws;
  store.erase_post(ws, "p1", p, err);
  REQUIRE_FALSE(err);
  REQUIRE_FALSE(t.db->write({&ws}, false));
  CHECK_FALSE(store.post("p1", err));
  CHECK_FALSE(store.liked("p1", "bob", err));
  CHECK(store.comments("p1", {}, 10, err).empty());
  CHECK(store.recent_posts("alice", 10, false, err).empty());
  CHECK(store.liked("p10", "bob", err));
  CHECK_FALSE(err);
}

TEST_CASE("users, author stats, pulled authors and affinity") {
  test::temp_db t;
  feed_store store{*t.db};
  pb::StoredUser u;
  u.set_followers(3);
  pb::AuthorStats s;
  s.set_posts(7);
  apply(*t.db, [&](write_set& ws) {
    store.put_user(ws, "alice", u);
    store.put_author_stats(ws, "alice", s);
    store.mark_pulled(ws, "alice");
    store.mark_pulled(ws, "zed");
    store.put_affinity(ws, "bob", "alice", 4);
    store.put_affinity(ws, "bob", "carol", 1);
  });
  fault err;
  CHECK(store.user("alice", err)->followers() == 3);
  CHECK_FALSE(store.user("nobody", err));
  CHECK(store.author_stats("alice", err)->posts() == 7);
  CHECK(store.pulled_authors(err) == std::vector<std::string>{"alice", "zed"});
  CHECK(store.affinity("bob", "alice", err) == 4);
  CHECK(store.affinity("bob", "nobody", err) == 0);
  auto all = store.affinities("bob", 10, err);
  CHECK(all.size() == 2);
  CHECK(all["carol"] == 1);
  apply(*t.db, [&](write_set& ws) { store.put_affinity(ws, "bob", "carol", 0); });
  CHECK(store.affinities("bob", 10, err).size() == 1);
  CHECK_FALSE(err);
}
