// What may cross nodes does: each service interface's request and reply types round-trip
// through CAF's binary serializer (tests/support/wire_round_trip.hpp), with defaults and with
// values that fill their fields.
#include "actors/feed/feed_api.hpp"
#include "actors/links/links_api.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/parley.pb.h"
#include "support/test_system.hpp"
#include "support/wire_round_trip.hpp"

#include <catch2/catch.hpp>

#include <google/protobuf/util/time_util.h>

using namespace parley;

namespace {

using google::protobuf::util::TimeUtil;

struct fixture {
  test::test_config cfg;
  caf::actor_system sys{cfg};
};

// Ids as the feed draws them (20 characters, time-ordered) and a text outside ASCII.
const std::string post_id = "0AbCdEfGhIjKlMnOpQrS";
const std::string comment_id = "0AbCdEfGhIjKlMnOpQrT";
const std::string text = "Grüße aus Zürich \xF0\x9F\x8C\x84 (a post)";

pb::Post filled_post() {
  pb::Post p;
  p.set_post_id(post_id);
  p.set_author_id("alice");
  p.set_text(text);
  p.add_media_urls("https://cdn.example/a.jpg");
  p.add_media_urls("https://cdn.example/b.png");
  *p.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(1'764'500'000'123);
  p.set_likes(3);
  p.set_comments(2);
  p.set_shares(18'446'744'073'709'551'615ULL);
  return p;
}

pb::Comment filled_comment() {
  pb::Comment c;
  c.set_comment_id(comment_id);
  c.set_post_id(post_id);
  c.set_author_id("bob.b-2_");
  c.set_text(text);
  *c.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(1'764'500'000'456);
  return c;
}

pb::StoredLink filled_link() {
  pb::StoredLink l;
  l.set_long_url("https://example.com/articles/1?utm_source=bench&x=%20y");
  l.set_redirect(301);
  l.set_created_at_ms(1'764'500'000'000);
  l.set_expires_at_ms(1'764'586'400'000);
  l.set_owner_id("alice");
  l.set_state(pb::StoredLink::EXPIRED);
  return l;
}

} // namespace

TEST_CASE_METHOD(fixture, "a protobuf message serializes with its own encoding and prints readably") {
  pb::CreateLinkRequest req;
  req.set_long_url("https://example.com/a?b=c");
  req.set_custom_alias("promo");
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(req));
  pb::CreateLinkRequest back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(source(back));
  CHECK(back.long_url() == req.long_url());
  CHECK(back.custom_alias() == "promo");
  CHECK(caf::deep_to_string(req).find("promo") != std::string::npos);
}

TEST_CASE_METHOD(fixture, "bytes that are not the message are an error, not an empty message") {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(std::string{"\xff\xff\xff", 3}));
  pb::CreateLinkRequest back;
  caf::binary_deserializer source{sys, buf};
  CHECK(source(back));
}

TEST_CASE_METHOD(fixture, "the post shard interface crosses nodes, defaults and filled values") {
  test::check_interface<feed::post_shard_api>(sys);
  pb::NewPost create;
  create.set_author_id("alice");
  create.mutable_request()->set_text(text);
  create.mutable_request()->add_media_urls("https://cdn.example/a.jpg");
  test::check_round_trip(sys, create);
  pb::PostDeletion deletion;
  deletion.set_post_id(post_id);
  deletion.set_user_id("root");
  deletion.set_admin(true);
  test::check_round_trip(sys, deletion);
  for (auto kind : {pb::Engagement::LIKE, pb::Engagement::UNLIKE, pb::Engagement::SHARE}) {
    pb::Engagement engagement;
    engagement.set_kind(kind);
    engagement.set_post_id(post_id);
    engagement.set_user_id("bob");
    test::check_round_trip(sys, engagement);
  }
  pb::NewComment comment;
  comment.set_post_id(post_id);
  comment.set_user_id("bob");
  comment.set_text(text);
  test::check_round_trip(sys, comment);
  pb::PostQuery post_query;
  post_query.set_post_id(post_id);
  test::check_round_trip(sys, post_query);
  pb::CommentsQuery comments_query;
  comments_query.set_post_id(post_id);
  comments_query.set_cursor(comment_id);
  comments_query.set_limit(100);
  test::check_round_trip(sys, comments_query);
  test::check_round_trip(sys, filled_post());
  test::check_round_trip(sys, filled_comment());
  pb::CommentList comments;
  *comments.add_comments() = filled_comment();
  *comments.add_comments() = filled_comment();
  comments.set_next_cursor(comment_id);
  test::check_round_trip(sys, comments);
}

TEST_CASE_METHOD(fixture, "the follow graph interface crosses nodes, defaults and filled values") {
  test::check_interface<feed::graph_api>(sys);
  pb::FollowChange change;
  change.set_follower_id("alice");
  change.set_followee_id("celebrity.1");
  change.set_follow(true);
  test::check_round_trip(sys, change);
  pb::UserRef user;
  user.set_user_id("alice");
  test::check_round_trip(sys, user);
  pb::FollowsQuery follows_query;
  follows_query.set_user_id("celebrity.1");
  follows_query.set_incoming(true);
  follows_query.set_cursor("bob");
  follows_query.set_limit(7);
  test::check_round_trip(sys, follows_query);
  pb::UserProfile profile;
  profile.set_user_id("celebrity.1");
  profile.set_followers(999'999);
  profile.set_following(3);
  profile.set_posts(30);
  test::check_round_trip(sys, profile);
  pb::FollowList follows;
  for (auto name : {"alice", "bob"}) {
    auto* entry = follows.add_users();
    entry->set_user_id(name);
    *entry->mutable_since() = TimeUtil::MillisecondsToTimestamp(1'764'500'000'789);
  }
  follows.set_next_cursor("bob");
  test::check_round_trip(sys, follows);
}

TEST_CASE_METHOD(fixture, "the feed actor interface crosses nodes, defaults and filled values") {
  test::check_interface<feed::feed_api>(sys);
  pb::FeedQuery query;
  query.set_mode(pb::FeedQuery::CHRONOLOGICAL);
  query.set_limit(20);
  query.set_cursor("c1764500000123." + post_id);
  test::check_round_trip(sys, query);
  pb::FeedPage page;
  auto* item = page.add_items();
  *item->mutable_post() = filled_post();
  item->set_score(0.731);
  page.add_items()->set_score(1e-300);
  page.set_next_cursor("r1764500000123.20.Zx9.abc." + post_id);
  test::check_round_trip(sys, page);
}

TEST_CASE_METHOD(fixture, "the fan-out worker interface crosses nodes, defaults and filled values") {
  test::check_interface<feed::fanout_api>(sys);
  pb::FanoutJob job;
  job.set_post_id(post_id);
  auto* post = job.mutable_post();
  post->set_author_id("alice");
  post->set_text(text);
  post->add_media_urls("https://cdn.example/a.jpg");
  post->set_created_ms(1'764'500'000'123);
  post->set_fanned_out(true);
  job.set_newly_pulled(true);
  job.set_after("bob");
  job.set_started_ns(-1);
  test::check_round_trip(sys, job);
}

TEST_CASE_METHOD(fixture, "the link service interface crosses nodes, defaults and filled values") {
  test::check_interface<links::link_service_api>(sys);
  pb::NewLink create;
  create.set_owner_id("alice");
  create.mutable_request()->set_long_url("https://example.com/a?b=c");
  create.mutable_request()->set_custom_alias("promo-2026");
  create.mutable_request()->set_ttl(316'224'000);
  create.mutable_request()->set_redirect(301);
  test::check_round_trip(sys, create);
  pb::LinkDeletion deletion;
  deletion.set_key("aZ09xYz");
  deletion.set_user_id("root");
  deletion.set_admin(true);
  test::check_round_trip(sys, deletion);
  pb::LinkKey key;
  key.set_key("aZ09xYz");
  test::check_round_trip(sys, key);
  pb::LinkStatsQuery stats_query;
  stats_query.set_key("aZ09xYz");
  test::check_round_trip(sys, stats_query);
  pb::LinkRecord record;
  record.set_key("aZ09xYz");
  *record.mutable_link() = filled_link();
  test::check_round_trip(sys, record);
  pb::LinkLookup lookup;
  lookup.set_found(true);
  *lookup.mutable_link() = filled_link();
  test::check_round_trip(sys, lookup);
  pb::LinkStats stats;
  stats.set_key("aZ09xYz");
  stats.set_clicks(12);
  *stats.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(1'764'500'000'000);
  *stats.mutable_last_accessed() = TimeUtil::MillisecondsToTimestamp(1'764'500'001'000);
  auto* referrer = stats.add_referrers();
  referrer->set_referrer("news.example");
  referrer->set_clicks(9);
  stats.mutable_devices()->set_desktop(5);
  stats.mutable_devices()->set_mobile(4);
  stats.mutable_devices()->set_bot(2);
  stats.mutable_devices()->set_other(1);
  test::check_round_trip(sys, stats);
  test::check_round_trip(sys, uint64_t{1000});
}
