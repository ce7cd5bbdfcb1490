// The news feed through real HTTP and WebSocket on a real node: posts, likes, comments, shares,
// the follow graph, feeds in both modes with their cursors, hybrid fan-out with an author
// crossing the celebrity threshold both ways, an inactive user returning, deletes and unfollows
// leaving feeds, live feed items, a restart, and the bad inputs around them.
#include "support/running_node.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;

namespace {

// A node and a token per user, with small helpers around the feed API.
struct social {
  running_node node;
  std::map<std::string, std::string> tokens;

  explicit social(const std::vector<std::string>& overrides = {}) : node(overrides) {}

  const std::string& token(const std::string& user) {
    auto& t = tokens[user];
    if (t.empty())
      t = dev_token(node.port(), user);
    return t;
  }

  http_result call(const std::string& user, const std::string& method, const std::string& target,
                   const std::string& body = {}) {
    return http_call(node.port(), method, target, body, bearer(token(user)));
  }

  pb::Post post(const std::string& user, const std::string& text) {
    auto res = call(user, "POST", "/api/v1/posts", R"({"text":")" + text + R"("})");
    INFO(res.body);
    REQUIRE(res.status == 201);
    return parse_json<pb::Post>(res.body);
  }

  void follow(const std::string& user, const std::string& whom, bool on = true) {
    auto res = call(user, on ? "PUT" : "DELETE", "/api/v1/following/" + whom);
    INFO(res.body);
    REQUIRE(res.status == 204);
  }

  pb::FeedPage feed(const std::string& user, const std::string& query = "mode=chronological") {
    auto res = call(user, "GET", "/api/v1/feed?" + query);
    INFO(res.body);
    REQUIRE(res.status == 200);
    return parse_json<pb::FeedPage>(res.body);
  }

  pb::UserProfile profile(const std::string& user) {
    auto res = call(user, "GET", "/api/v1/users/" + user);
    INFO(res.body);
    REQUIRE(res.status == 200);
    return parse_json<pb::UserProfile>(res.body);
  }

  // Fan-out is asynchronous: waits until the insert counter reaches `target`.
  void await_inserts(int64_t target) {
    for (int i = 0; i < 200 && metric_value(node, "parley_feed_fanout_inserts_total") < target; ++i)
      std::this_thread::sleep_for(10ms);
    REQUIRE(metric_value(node, "parley_feed_fanout_inserts_total") >= target);
  }
};

std::vector<std::string> texts(const pb::FeedPage& page) {
  std::vector<std::string> out;
  for (auto& item : page.items())
    out.push_back(item.post().text());
  return out;
}

std::string error_code(const http_result& res) {
  auto pos = res.body.find("\"code\":\"");
  if (pos == std::string::npos)
    return {};
  pos += 8;
  return res.body.substr(pos, res.body.find('"', pos) - pos);
}

} // namespace

TEST_CASE("posts: create, read, delete by the author only") {
  social s;
  auto res = s.call("alice", "POST", "/api/v1/posts",
                    R"({"text":"hello","media_urls":["https://cdn.example/a.png"]})");
  REQUIRE(res.status == 201);
  auto p = parse_json<pb::Post>(res.body);
  CHECK(p.author_id() == "alice");
  CHECK(p.text() == "hello");
  CHECK(p.media_urls_size() == 1);
  CHECK(p.likes() == 0);
  CHECK(res.body.find("\"created_at\"") != std::string::npos);
  CHECK(res.body.find("\"shares\"") != std::string::npos);  // defaults are printed

  auto got = s.call("bob", "GET", "/api/v1/posts/" + p.post_id());
  REQUIRE(got.status == 200);
  CHECK(parse_json<pb::Post>(got.body).text() == "hello");

  auto other = s.call("bob", "DELETE", "/api/v1/posts/" + p.post_id());
  CHECK(other.status == 403);
  CHECK(error_code(other) == "forbidden");
  CHECK(s.call("alice", "DELETE", "/api/v1/posts/" + p.post_id()).status == 204);
  CHECK(s.call("bob", "GET", "/api/v1/posts/" + p.post_id()).status == 404);
  CHECK(s.call("alice", "DELETE", "/api/v1/posts/" + p.post_id()).status == 404);
  CHECK(s.profile("alice").posts() == 0);
  // Ids that cannot be posts, and no token at all.
  CHECK(s.call("bob", "GET", "/api/v1/posts/nope").status == 404);
  CHECK(s.call("bob", "DELETE", "/api/v1/posts/0123456789abcdefghjk").status == 404);
  CHECK(http_call(s.node.port(), "GET", "/api/v1/posts/" + p.post_id()).status == 401);
}

TEST_CASE("posts: bad input is a 400 naming the problem, and nothing is stored") {
  social s;
  auto bad = [&](const std::string& body, const std::string& needle) {
    auto res = s.call("alice", "POST", "/api/v1/posts", body);
    INFO(body << " -> " << res.body);
    CHECK(res.status == 400);
    CHECK(error_code(res) == "bad_request");
    CHECK(res.body.find(needle) != std::string::npos);
  };
  bad(R"({"text":""})", "text is empty");
  bad(R"({})", "text is empty");
  bad(R"({"text":")" + std::string(5001, 'x') + R"("})", "5001 characters");
  bad(R"({"text":"x","media_urls":["ftp://x.example/a"]})", "media_urls[0]");
  bad(R"({"text":"x","media_urls":["https://a.example/1","https://a.example/2",)"
      R"("https://a.example/3","https://a.example/4","https://a.example/5"]})",
      "at most 4");
  bad(R"({"text":"x","media_urls":["not a url"]})", "media_urls[0]");
  bad(R"({"text":)", "");
  bad(R"({"text":42})", "");
  CHECK(s.call("alice", "POST", "/api/v1/posts", R"({"text":")" + std::string(5000, 'x') + R"("})")
          .status
        == 201);
  CHECK(s.profile("alice").posts() == 1);
}

TEST_CASE("likes are idempotent per user and counters stay exact under concurrency") {
  social s;
  auto p = s.post("alice", "like me");
  auto like = [&](const std::string& user, const char* method) {
    auto res = s.call(user, method, "/api/v1/posts/" + p.post_id() + "/likes");
    INFO(res.body);
    REQUIRE(res.status == 200);
    return parse_json<pb::Post>(res.body).likes();
  };
  CHECK(like("bob", "POST") == 1);
  CHECK(like("bob", "POST") == 1);
  CHECK(like("bob", "DELETE") == 0);
  CHECK(like("bob", "DELETE") == 0);

  constexpr int users = 24;
  for (int i = 0; i < users; ++i)
    s.token("fan" + std::to_string(i));
  std::vector<std::thread> threads;
  for (int i = 0; i < users; ++i)
    threads.emplace_back([&, i] {
      auto user = "fan" + std::to_string(i);
      s.call(user, "POST", "/api/v1/posts/" + p.post_id() + "/likes");
      s.call(user, "POST", "/api/v1/posts/" + p.post_id() + "/likes");  // a retry
      s.call(user, "POST", "/api/v1/posts/" + p.post_id() + "/shares");
    });
  for (auto& t : threads)
    t.join();
  auto got = parse_json<pb::Post>(s.call("bob", "GET", "/api/v1/posts/" + p.post_id()).body);
  CHECK(got.likes() == users);
  CHECK(got.shares() == users);

  auto missing = s.call("bob", "POST", "/api/v1/posts/0123456789abcdefghjk/likes");
  CHECK(missing.status == 404);
  REQUIRE(s.call("alice", "DELETE", "/api/v1/posts/" + p.post_id()).status == 204);
  auto deleted = s.call("bob", "POST", "/api/v1/posts/" + p.post_id() + "/likes");
  CHECK(deleted.status == 404);
  CHECK(error_code(deleted) == "not_found");
  CHECK(s.call("bob", "POST", "/api/v1/posts/" + p.post_id() + "/shares").status == 404);
}

TEST_CASE("comments: create, count, list oldest first with a cursor") {
  social s;
  auto p = s.post("alice", "discuss");
  for (int i = 0; i < 5; ++i) {
    auto res = s.call("bob", "POST", "/api/v1/posts/" + p.post_id() + "/comments",
                      R"({"text":"c)" + std::to_string(i) + R"("})");
    INFO(res.body);
    REQUIRE(res.status == 201);
    auto c = parse_json<pb::Comment>(res.body);
    CHECK(c.author_id() == "bob");
    CHECK(c.post_id() == p.post_id());
  }
  auto page1 = parse_json<pb::CommentList>(
    s.call("carol", "GET", "/api/v1/posts/" + p.post_id() + "/comments?limit=3").body);
  REQUIRE(page1.comments_size() == 3);
  CHECK(page1.comments(0).text() == "c0");
  REQUIRE_FALSE(page1.next_cursor().empty());
  auto page2 = parse_json<pb::CommentList>(
    s.call("carol", "GET",
           "/api/v1/posts/" + p.post_id() + "/comments?limit=3&cursor=" + page1.next_cursor())
      .body);
  REQUIRE(page2.comments_size() == 2);
  CHECK(page2.comments(1).text() == "c4");
  CHECK(page2.next_cursor().empty());
  auto got = parse_json<pb::Post>(s.call("bob", "GET", "/api/v1/posts/" + p.post_id()).body);
  CHECK(got.comments() == 5);

  CHECK(s.call("bob", "POST", "/api/v1/posts/" + p.post_id() + "/comments", R"({"text":""})").status
        == 400);
  CHECK(s.call("bob", "GET", "/api/v1/posts/" + p.post_id() + "/comments?cursor=%%%").status
        == 400);
  CHECK(s.call("bob", "GET", "/api/v1/posts/0123456789abcdefghjk/comments").status == 404);
}

TEST_CASE("follow graph: both directions, counts, idempotence, listing with cursors") {
  social s;
  for (auto u : {"alice", "bob", "carol", "dave"})
    s.token(u);
  s.follow("bob", "alice");
  s.follow("bob", "alice");  // idempotent
  s.follow("carol", "alice");
  s.follow("dave", "alice");
  s.follow("bob", "carol");
  auto alice = s.profile("alice");
  CHECK(alice.followers() == 3);
  CHECK(alice.following() == 0);
  CHECK(s.profile("bob").following() == 2);

  auto page = parse_json<pb::FollowList>(
    s.call("bob", "GET", "/api/v1/users/alice/followers?limit=2").body);
  REQUIRE(page.users_size() == 2);
  CHECK(page.users(0).user_id() == "bob");
  CHECK(page.users(1).user_id() == "carol");
  auto rest = parse_json<pb::FollowList>(
    s.call("bob", "GET", "/api/v1/users/alice/followers?limit=2&cursor=" + page.next_cursor()).body);
  REQUIRE(rest.users_size() == 1);
  CHECK(rest.users(0).user_id() == "dave");
  CHECK(rest.next_cursor().empty());
  auto following = parse_json<pb::FollowList>(
    s.call("alice", "GET", "/api/v1/users/bob/following").body);
  CHECK(following.users_size() == 2);

  s.follow("bob", "alice", false);
  s.follow("bob", "alice", false);  // idempotent
  CHECK(s.profile("alice").followers() == 2);
  CHECK(s.profile("bob").following() == 1);

  auto self = s.call("bob", "PUT", "/api/v1/following/bob");
  CHECK(self.status == 400);
  CHECK(self.body.find("themselves") != std::string::npos);
  CHECK(s.call("bob", "PUT", "/api/v1/following/nobody").status == 404);
  CHECK(s.call("bob", "PUT", "/api/v1/following/bad%20id").status == 400);
  CHECK(s.call("bob", "GET", "/api/v1/users/nobody").status == 404);
  CHECK(s.call("bob", "GET", "/api/v1/users/nobody/followers").status == 404);
  CHECK(s.call("bob", "GET", "/api/v1/users/alice/followers?limit=abc").status == 400);
  CHECK(s.call("bob", "GET", "/api/v1/users/alice/followers?cursor=bad%20cursor").status == 400);
}

TEST_CASE("feed: own and followed posts, newest first, paged without gaps while posts arrive") {
  social s;
  s.token("alice");
  s.token("carol");
  s.follow("bob", "alice");
  s.follow("bob", "carol");
  s.feed("bob");  // bob is active from here on: fan-out fills his feed
  auto inserts = metric_value(s.node, "parley_feed_fanout_inserts_total");
  for (int i = 0; i < 6; ++i)
    s.post(i % 2 ? "carol" : "alice", "p" + std::to_string(i));
  s.post("bob", "mine");
  s.post("dave", "stranger");  // not followed
  // 7 posts into bob's feed (the authors never read theirs: inactive, skipped).
  s.await_inserts(inserts + 7);

  auto first = s.feed("bob", "mode=chronological&limit=3");
  CHECK(texts(first) == std::vector<std::string>{"mine", "p5", "p4"});
  REQUIRE_FALSE(first.next_cursor().empty());
  // New posts arrive between pages: the next page continues where the first ended.
  s.post("alice", "late");
  auto second = s.feed("bob", "mode=chronological&limit=3&cursor=" + first.next_cursor());
  CHECK(texts(second) == std::vector<std::string>{"p3", "p2", "p1"});
  auto third = s.feed("bob", "mode=chronological&limit=3&cursor=" + second.next_cursor());
  CHECK(texts(third) == std::vector<std::string>{"p0"});
  CHECK(third.next_cursor().empty());
  for (auto& item : first.items())
    CHECK(item.score() > 0);

  // limit is clamped to 1..100; bad values are refused.
  CHECK(s.feed("bob", "mode=chronological&limit=0").items_size() == 1);
  CHECK(s.feed("bob", "mode=chronological&limit=100000").items_size() == 8);
  auto bad_limit = s.call("bob", "GET", "/api/v1/feed?limit=ten");
  CHECK(bad_limit.status == 400);
  CHECK(s.call("bob", "GET", "/api/v1/feed?mode=popular").status == 400);
  CHECK(s.call("bob", "GET", "/api/v1/feed?mode=chronological&cursor=garbage").status == 400);
  auto wrong_mode =
    s.call("bob", "GET", "/api/v1/feed?mode=ranked&cursor=" + first.next_cursor());
  CHECK(wrong_mode.status == 400);
  CHECK(error_code(wrong_mode) == "bad_request");
}

TEST_CASE("feed: limit is clamped to 100") {
  social s;
  s.feed("alice");
  auto inserts = metric_value(s.node, "parley_feed_fanout_inserts_total");
  for (int i = 0; i < 103; ++i)
    s.post("alice", "n" + std::to_string(i));
  s.await_inserts(inserts + 103);
  for (auto mode : {"ranked", "chronological"}) {
    auto page = s.feed("alice", std::string{"limit=1000&mode="} + mode);
    CHECK(page.items_size() == 100);
    auto rest = s.feed("alice", std::string{"limit=-5&mode="} + mode + "&cursor="
                                  + page.next_cursor());
    CHECK(rest.items_size() == 1);
  }
}

TEST_CASE("feed: ranked mode scores items and pages through one stable ranking") {
  social s;
  s.token("alice");
  s.token("carol");
  s.follow("bob", "alice");
  s.follow("bob", "carol");
  s.feed("bob");
  auto inserts = metric_value(s.node, "parley_feed_fanout_inserts_total");
  std::vector<pb::Post> posts;
  for (int i = 0; i < 7; ++i)
    posts.push_back(s.post(i < 5 ? "alice" : "carol", "r" + std::to_string(i)));
  s.await_inserts(inserts + 7);
  // bob likes carol's posts: affinity lifts them.
  s.call("bob", "POST", "/api/v1/posts/" + posts[5].post_id() + "/likes");

  auto first = s.feed("bob", "mode=ranked&limit=4");
  REQUIRE(first.items_size() == 4);
  CHECK(first.items(0).post().author_id() == "carol");
  for (int i = 1; i < first.items_size(); ++i)
    CHECK(first.items(i - 1).score() >= first.items(i).score());
  s.post("alice", "meanwhile");  // not part of this ranking
  auto second = s.feed("bob", "mode=ranked&limit=4&cursor=" + first.next_cursor());
  std::set<std::string> seen;
  for (auto* page : {&first, &second})
    for (auto& item : page->items())
      CHECK(seen.insert(item.post().post_id()).second);  // no duplicates
  CHECK(seen.size() == 7);  // no gaps
  CHECK(second.next_cursor().empty());
  // The default mode is ranked.
  CHECK(s.feed("bob", "").items_size() == 8);
}

TEST_CASE("feed: a ranked cursor whose ranking was evicted resumes after its last item") {
  social s;
  s.token("alice");
  s.follow("bob", "alice");
  s.feed("bob");
  auto inserts = metric_value(s.node, "parley_feed_fanout_inserts_total");
  for (int i = 0; i < 6; ++i)
    s.post("alice", "e" + std::to_string(i));
  s.await_inserts(inserts + 6);
  auto first = s.feed("bob", "mode=ranked&limit=2");
  REQUIRE(first.items_size() == 2);
  // More first pages than the feed actor keeps rankings for: the first one is gone.
  for (int i = 0; i < 5; ++i)
    s.feed("bob", "mode=ranked&limit=1");
  s.post("alice", "after the first page");  // newer than the cursor's ranking: not in it
  std::set<std::string> seen;
  for (auto& item : first.items())
    seen.insert(item.post().text());
  auto cursor = first.next_cursor();
  while (!cursor.empty()) {
    auto page = s.feed("bob", "mode=ranked&limit=2&cursor=" + cursor);
    for (auto& item : page.items())
      CHECK(seen.insert(item.post().text()).second);  // no duplicates
    cursor = page.next_cursor();
  }
  CHECK(seen.size() == 6);  // no gaps, and nothing from after the ranking
  CHECK(seen.count("after the first page") == 0);
}

TEST_CASE("feed: deleted posts and unfollowed authors leave the feed") {
  social s;
  s.token("alice");
  s.token("carol");
  s.follow("bob", "alice");
  s.follow("bob", "carol");
  s.feed("bob");
  auto inserts = metric_value(s.node, "parley_feed_fanout_inserts_total");
  auto gone = s.post("alice", "to delete");
  s.post("alice", "stays");
  s.post("carol", "carol's");
  s.await_inserts(inserts + 3);
  CHECK(s.feed("bob").items_size() == 3);
  REQUIRE(s.call("alice", "DELETE", "/api/v1/posts/" + gone.post_id()).status == 204);
  CHECK(texts(s.feed("bob")) == std::vector<std::string>{"carol's", "stays"});
  s.follow("bob", "carol", false);
  CHECK(texts(s.feed("bob")) == std::vector<std::string>{"stays"});
  CHECK(texts(s.feed("bob", "mode=ranked")) == std::vector<std::string>{"stays"});
  // Following again brings carol's posts back at once.
  s.follow("bob", "carol");
  CHECK(texts(s.feed("bob")) == std::vector<std::string>{"carol's", "stays"});
}

TEST_CASE("celebrity threshold: an author crossing it both ways keeps every feed correct") {
  social s{{"feed.celebrity_threshold=2"}};
  s.token("alice");
  s.follow("bob", "alice");
  s.feed("bob");
  auto pulled_before = metric_value(s.node, "parley_feed_posts_pulled_total");
  s.post("alice", "one follower");  // fanned out
  s.follow("carol", "alice");       // 2 followers: a celebrity now
  s.feed("carol");
  s.post("alice", "celebrity post");  // pulled at read time
  CHECK(metric_value(s.node, "parley_feed_posts_pulled_total") == pulled_before + 1);
  std::vector<std::string> both{"celebrity post", "one follower"};
  CHECK(texts(s.feed("bob")) == both);
  CHECK(texts(s.feed("carol")) == both);
  CHECK(texts(s.feed("alice")) == both);  // own posts, pulled ones too

  s.follow("carol", "alice", false);  // back to 1 follower: fanned out again
  auto inserts = metric_value(s.node, "parley_feed_fanout_inserts_total");
  s.post("alice", "normal again");
  s.await_inserts(inserts + 2);  // bob's and alice's feeds
  CHECK(texts(s.feed("bob"))
        == std::vector<std::string>{"normal again", "celebrity post", "one follower"});
  CHECK(texts(s.feed("bob", "mode=ranked")).size() == 3);
  CHECK(s.feed("carol").items_size() == 0);
}

TEST_CASE("inactive users are skipped by fan-out and rebuilt when they return") {
  // active_days = 0: a user counts as inactive right after each read.
  social s{{"feed.active_days=0"}};
  s.token("alice");
  s.follow("bob", "alice");
  s.post("alice", "before");
  s.feed("bob");
  auto skipped = metric_value(s.node, "parley_feed_fanout_skipped_total");
  auto rebuilds = metric_value(s.node, "parley_feed_rebuilds_total");
  std::this_thread::sleep_for(5ms);
  s.post("alice", "while away");
  for (int i = 0; i < 200 && metric_value(s.node, "parley_feed_fanout_skipped_total") == skipped; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(metric_value(s.node, "parley_feed_fanout_skipped_total") > skipped);
  CHECK(texts(s.feed("bob")) == std::vector<std::string>{"while away", "before"});
  CHECK(metric_value(s.node, "parley_feed_rebuilds_total") > rebuilds);
}

TEST_CASE("feed_subscribe: new posts of followed users arrive as feed_item frames") {
  social s{{"feed.celebrity_threshold=2"}};
  s.token("alice");
  s.token("erin");
  s.follow("bob", "alice");
  s.follow("bob", "erin");
  s.follow("carol", "erin");  // erin has 2 followers: a celebrity
  chat_client bob{s.node, "bob"};
  chat_client dave{s.node, "dave"};
  bob.send(R"({"feed_subscribe":{}})");
  dave.send(R"({"feed_subscribe":{}})");
  bob.call(R"({"request_id":"p","ping":{}})");  // the subscription is in place
  dave.call(R"({"request_id":"p","ping":{}})");
  CHECK(metric_value(s.node, "parley_feed_live_subscribers") == 2);
  CHECK(metric_value(s.node, "parley_feed_pulled_authors") == 0);
  auto p = s.post("alice", "live");
  auto item = bob.next([](auto& f) { return f.has_feed_item(); });
  CHECK(item.feed_item().post().post_id() == p.post_id());
  CHECK(item.feed_item().post().text() == "live");
  s.post("erin", "celebrity live");
  auto celeb = bob.next([](auto& f) { return f.has_feed_item(); });
  CHECK(celeb.feed_item().post().text() == "celebrity live");
  CHECK(dave.none_within(300, [](auto& f) { return f.has_feed_item(); }));
  CHECK(metric_value(s.node, "parley_feed_pulled_authors") == 1);  // erin

  // erin is pulled now. carol subscribes after that; dave starts following her while
  // subscribed; bob stops: each gets exactly what they follow.
  chat_client carol{s.node, "carol"};
  carol.send(R"({"feed_subscribe":{}})");
  carol.call(R"({"request_id":"p","ping":{}})");
  s.follow("dave", "erin");
  s.follow("bob", "erin", false);
  s.post("erin", "second celebrity post");
  for (auto* c : {&carol, &dave}) {
    auto got = c->next([](auto& f) { return f.has_feed_item(); });
    CHECK(got.feed_item().post().text() == "second celebrity post");
  }
  CHECK(bob.none_within(300, [](auto& f) { return f.has_feed_item(); }));
}

TEST_CASE("posts, follows and counters survive a restart, and feeds are rebuilt") {
  temp_dir dir;
  std::string id;
  {
    running_node first{dir.path(), {}};
    auto port = first.port();
    auto alice = dev_token(port, "alice");
    auto bob = dev_token(port, "bob");
    REQUIRE(http_call(port, "PUT", "/api/v1/following/alice", {}, bearer(bob)).status == 204);
    auto res = http_call(port, "POST", "/api/v1/posts", R"({"text":"durable"})", bearer(alice));
    REQUIRE(res.status == 201);
    id = parse_json<pb::Post>(res.body).post_id();
    REQUIRE(http_call(port, "POST", "/api/v1/posts/" + id + "/likes", {}, bearer(bob)).status
            == 200);
  }
  running_node second{dir.path(), {}};
  auto bob = dev_token(second.port(), "bob");
  auto feed = http_call(second.port(), "GET", "/api/v1/feed", {}, bearer(bob));
  REQUIRE(feed.status == 200);
  auto page = parse_json<pb::FeedPage>(feed.body);
  REQUIRE(page.items_size() == 1);
  CHECK(page.items(0).post().post_id() == id);
  CHECK(page.items(0).post().likes() == 1);
  auto alice = parse_json<pb::UserProfile>(
    http_call(second.port(), "GET", "/api/v1/users/alice", {}, bearer(bob)).body);
  CHECK(alice.followers() == 1);
  CHECK(alice.posts() == 1);
}
