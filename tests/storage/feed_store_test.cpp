// The feed store: the follow graph both ways, the author index newest first, a post's likes and
// comments going with it, and records that do not parse reported rather than taken for absent.
#include "storage/feed_store.hpp"

#include "storage/key_codec.hpp"
#include "support/result_checks.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::storage;
using parley::test::ok;

namespace {

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
  t.apply([&](write_set& ws) {
    store.put_follow(ws, "bob", "alice", 10);
    store.put_follow(ws, "carol", "alice", 20);
    store.put_follow(ws, "dave", "alice", 30);
    store.put_follow(ws, "bob", "carol", 40);
    // A user id that is a prefix of another must not bleed into it.
    store.put_follow(ws, "bob2", "alice2", 50);
  });
  CHECK(users(ok(store.followers("alice", {}, 10))) == std::vector<std::string>{"bob", "carol", "dave"});
  CHECK(users(ok(store.followers("alice", "bob", 1))) == std::vector<std::string>{"carol"});
  CHECK(users(ok(store.followers("alice", "carol", 10))) == std::vector<std::string>{"dave"});
  CHECK(users(ok(store.following("bob", {}, 10))) == std::vector<std::string>{"alice", "carol"});
  CHECK(ok(store.followers("alice", {}, 10))[1].since_ms == 20);
  CHECK(ok(store.follows("bob", "alice")));
  CHECK_FALSE(ok(store.follows("alice", "bob")));
  t.apply([&](write_set& ws) { store.erase_follow(ws, "bob", "alice"); });
  CHECK_FALSE(ok(store.follows("bob", "alice")));
  CHECK(users(ok(store.followers("alice", {}, 10))) == std::vector<std::string>{"carol", "dave"});
  CHECK(users(ok(store.following("bob", {}, 10))) == std::vector<std::string>{"carol"});
}

TEST_CASE("an author's posts come newest first, pulled ones on request") {
  test::temp_db t;
  feed_store store{*t.db};
  t.apply([&](write_set& ws) {
    store.put_post(ws, "p1", post("alice", 100));
    store.put_post(ws, "p2", post("alice", 300, false));
    store.put_post(ws, "p3", post("alice", 200));
    store.put_post(ws, "q1", post("alice2", 999));
  });
  auto all = ok(store.recent_posts("alice", 10, false));
  REQUIRE(all.size() == 3);
  CHECK(all[0].post_id == "p2");
  CHECK(all[0].created_ms == 300);
  CHECK_FALSE(all[0].fanned_out);
  CHECK(all[2].post_id == "p1");
  CHECK(ok(store.recent_posts("alice", 2, false)).size() == 2);
  auto pulled = ok(store.recent_posts("alice", 10, true));
  REQUIRE(pulled.size() == 1);
  CHECK(pulled[0].post_id == "p2");
}

TEST_CASE("erasing a post removes its index entry, likes and comments") {
  test::temp_db t;
  feed_store store{*t.db};
  auto p = post("alice", 100);
  pb::StoredComment c;
  c.set_author_id("bob");
  c.set_text("nice");
  t.apply([&](write_set& ws) {
    store.put_post(ws, "p1", p);
    store.put_like(ws, "p1", "bob");
    store.put_comment(ws, "p1", "c1", c);
    store.put_comment(ws, "p1", "c2", c);
    store.put_like(ws, "p10", "bob");  // another post whose id extends this one
  });
  CHECK(ok(store.liked("p1", "bob")));
  auto comments = ok(store.comments("p1", {}, 10));
  CHECK(comments.size() == 2);
  CHECK(ok(store.comments("p1", "c1", 10)).size() == 1);
  write_set ws;
  REQUIRE_FALSE(store.erase_post(ws, "p1", p));
  REQUIRE_FALSE(t.db->write({&ws}, false));
  CHECK_FALSE(ok(store.post("p1")));
  CHECK_FALSE(ok(store.liked("p1", "bob")));
  CHECK(ok(store.comments("p1", {}, 10)).empty());
  CHECK(ok(store.recent_posts("alice", 10, false)).empty());
  CHECK(ok(store.liked("p10", "bob")));
}

TEST_CASE("users, author stats, pulled authors and affinity") {
  test::temp_db t;
  feed_store store{*t.db};
  pb::StoredUser u;
  u.set_followers(3);
  pb::AuthorStats s;
  s.set_posts(7);
  t.apply([&](write_set& ws) {
    store.put_user(ws, "alice", u);
    store.put_author_stats(ws, "alice", s);
    store.mark_pulled(ws, "alice");
    store.mark_pulled(ws, "zed");
    store.put_affinity(ws, "bob", "alice", 4);
    store.put_affinity(ws, "bob", "carol", 1);
  });
  CHECK(ok(store.user("alice"))->followers() == 3);
  CHECK_FALSE(ok(store.user("nobody")));
  CHECK(ok(store.author_stats("alice"))->posts() == 7);
  CHECK(ok(store.pulled_authors()) == std::vector<std::string>{"alice", "zed"});
  CHECK(ok(store.affinity("bob", "alice")) == 4);
  CHECK(ok(store.affinity("bob", "nobody")) == 0);
  auto all = ok(store.affinities("bob", 10));
  CHECK(all.size() == 2);
  CHECK(all["carol"] == 1);
  t.apply([&](write_set& ws) { store.put_affinity(ws, "bob", "carol", 0); });
  CHECK(ok(store.affinities("bob", 10)).size() == 1);
}

TEST_CASE("a corrupt post, affinity or follow edge is reported with its family, never absent") {
  test::temp_db t;
  feed_store store{*t.db};
  t.apply([&](write_set& ws) {
    ws.put(family::posts, "p1", "\xff\xff\xff");
    // An affinity is 8 bytes; 3 would read as "never engaged" if taken for absent.
    ws.put(family::affinity, key_builder{}.str("bob").str("alice").bytes(), "abc");
    // An incoming edge whose since is cut short.
    ws.put(family::follows, key_builder{}.u8('i').str("alice").str("bob").bytes(), "ab");
  });
  auto p = store.post("p1");
  REQUIRE_FALSE(p);
  CHECK(p.error().code == errc::internal);
  CHECK(p.error().message.find("posts") != std::string::npos);
  auto a = store.affinity("bob", "alice");
  REQUIRE_FALSE(a);
  CHECK(a.error().code == errc::internal);
  CHECK(a.error().message.find("affinity") != std::string::npos);
  auto f = store.followers("alice", {}, 10);
  REQUIRE_FALSE(f);
  CHECK(f.error().code == errc::internal);
  CHECK(f.error().message.find("follows") != std::string::npos);
}
