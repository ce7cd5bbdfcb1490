// What may cross nodes does: each service interface's request and reply types round-trip
// through CAF's binary serializer (tests/support/wire_round_trip.hpp), with defaults and with
// values that fill their fields.
#include "actors/admin/admin_api.hpp"
#include "actors/admin/answer_merge.hpp"
#include "actors/chat/chat_api.hpp"
#include "actors/feed/feed_api.hpp"
#include "actors/limits/limit_service.hpp"
#include "actors/links/links_api.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/tasks_api.hpp"
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

TEST_CASE_METHOD(fixture, "the admin interface crosses nodes") {
  test::check_interface<admin::admin_api>(sys);
  pb::AdminRequest req;
  req.set_command("sessions.kick");
  (*req.mutable_args())["user"] = "bob";
  (*req.mutable_args())["reason"] = "spam";
  req.mutable_caller()->set_user("op");
  req.mutable_caller()->set_role("admin");
  test::check_round_trip(sys, req);
  google::protobuf::Value kicked;
  kicked.mutable_struct_value()->mutable_fields()->insert({"kicked", google::protobuf::Value{}});
  (*kicked.mutable_struct_value()->mutable_fields())["kicked"].set_number_value(2);
  auto answer = admin::data_answer("n-1", kicked);
  test::check_round_trip(sys, answer);
  test::check_round_trip(sys, admin::error_answer("n-2", make_fault(errc::not_found, "none")));
  pb::AdminReply reply;
  reply.set_command("sessions.kick");
  reply.set_scope("cluster");
  *reply.add_answers() = answer;
  reply.add_unanswered("n-3");
  test::check_round_trip(sys, reply);
}

TEST_CASE_METHOD(fixture, "chat: every conversation and presence message crosses nodes") {
  test::check_interface<chat::conversation_api>(sys);
  test::check_interface<chat::presence_api>(sys);
  pb::ConversationSend send;
  send.set_sender_id("alice");
  send.set_client_msg_id("m-1");
  send.set_body("h\xc3\xa9llo, \xe2\x9c\x93");
  send.set_to_user("bob");
  send.set_origin_session("s-1");
  test::check_round_trip(sys, send);
  pb::ConversationAck ack;
  ack.set_seq(42);
  ack.set_sent_at_ms(1750000000123);
  test::check_round_trip(sys, ack);
  pb::ChatEndpoint device;
  device.set_user_id("alice");
  device.set_session_id("s-1");
  device.set_device_id("phone");
  device.set_node("n1");
  test::check_round_trip(sys, device);
  pb::PresenceQuery query;
  query.set_request_id("p1");
  *query.mutable_subscriber() = device;
  query.add_user_ids("bob");
  query.add_user_ids("carol");
  query.add_hidden("carol");
  query.set_subscribe(true);
  test::check_round_trip(sys, query);
  pb::HistoryPage page;
  page.set_conversation_id("d:alice:bob");
  auto* m = page.add_messages();
  m->set_seq(7);
  m->set_body("hi");
  m->mutable_sent_at()->set_seconds(1750000000);
  page.set_has_more(true);
  test::check_round_trip(sys, page);
  auto back = test::message_round_trip(sys, page);
  CHECK(back.messages(0).sent_at().seconds() == 1750000000);
  pb::ConversationInspection inspection;
  inspection.set_conversation_id("g:01J0GROUP");
  inspection.set_loaded(true);
  inspection.set_exists(true);
  inspection.set_group(true);
  inspection.set_title(text);
  inspection.set_members(500);
  inspection.set_admins(2);
  inspection.set_last_seq(18'446'744'073'709'551'615ULL);
  inspection.set_recent_cached(64);
  inspection.set_queued_sends(3);
  inspection.set_pending_writes(-1);
  inspection.set_devices_tracked(7);
  inspection.set_passivating(true);
  test::check_round_trip(sys, inspection);
}

TEST_CASE_METHOD(fixture, "chat: the chat service's deliveries and index reads cross nodes") {
  test::check_interface<chat::chat_service_api>(sys);
  pb::ChatDelivery d;
  d.set_conversation_id("d:alice:bob");
  auto* m = d.add_messages();
  m->mutable_message()->set_conversation_id("d:alice:bob");
  m->mutable_message()->set_seq(9);
  m->mutable_message()->set_body("h\xc3\xa9llo");
  m->mutable_message()->mutable_sent_at()->set_seconds(1750000000);
  m->set_origin_session("s-1");
  auto* t = d.add_targets();
  t->set_user_id("bob");
  t->set_session_id("s-2");
  t->set_after_seq(8);
  test::check_round_trip(sys, d);
  pb::ChatDelivery typing;
  typing.mutable_frame()->mutable_typing()->set_user_id("alice");
  typing.mutable_frame()->mutable_typing()->set_active(true);
  *typing.add_targets() = *t;
  test::check_round_trip(sys, typing);
  pb::SyncResult res;
  res.set_messages(3);
  res.set_complete(true);
  res.set_last_seq(12);
  test::check_round_trip(sys, res);
  pb::ChatIndexQuery q;
  q.set_user_id("alice");
  q.add_user_ids("bob");
  test::check_round_trip(sys, q);
  pb::ChatIndexAnswer a;
  a.add_ids("d:alice:bob");
  a.add_ids("g:0123");
  test::check_round_trip(sys, a);
}

// -- tasks ---------------------------------------------------------------------------------------

namespace {

pb::TaskCaller alice_worker() {
  pb::TaskCaller c;
  c.set_user("alice");
  c.set_worker(true);
  return c;
}

google::protobuf::Value report_payload() {
  google::protobuf::Value v;
  auto& fields = *v.mutable_struct_value()->mutable_fields();
  fields["month"].set_string_value("2026-05");
  fields["pages"].set_number_value(12);
  return v;
}

pb::Lease filled_lease() {
  pb::Lease l;
  l.set_lease_id("01J0TASK.abcdefghijklm");
  l.set_task_id("01J0TASK");
  l.set_attempt(2);
  l.set_task_type("report");
  *l.mutable_payload() = report_payload();
  l.mutable_lease_expires_at()->set_seconds(1'767'225'600);
  return l;
}

} // namespace

TEST_CASE_METHOD(fixture, "task_shard_api: every request and reply crosses nodes") {
  test::check_interface<tasks::task_shard_api>(sys);

  pb::CreateTask create;
  *create.mutable_caller() = alice_worker();
  auto& req = *create.mutable_request();
  req.set_task_type("report");
  *req.mutable_payload() = report_payload();
  req.mutable_schedule()->set_type("cron");
  req.mutable_schedule()->set_cron("*/5 * * * *");
  req.mutable_retry_policy()->set_max_retries(4);
  req.set_timeout_sec(120);
  req.set_priority(-3);
  req.set_idempotency_key("monthly:2026-05");
  test::check_round_trip(sys, create);

  pb::CreatedTask created;
  auto& task = *created.mutable_task();
  task.set_id("01J0TASK");
  task.set_task_type("report");
  *task.mutable_payload() = report_payload();
  task.set_status(pb::Task::RUNNING);
  task.set_attempt(2);
  task.set_owner("alice");
  task.set_lease_id("01J0TASK.abcdefghijklm");
  task.set_lease_holder("alice");
  task.set_next_run_at_ms(1'767'225'600'000);
  created.set_created(true);
  test::check_round_trip(sys, created);
  test::check_round_trip(sys, created.task());

  pb::TaskCommand command;
  *command.mutable_caller() = alice_worker();
  command.set_task_id("01J0TASK");
  command.set_kind(pb::TaskCommand::REQUEUE);
  test::check_round_trip(sys, command);

  pb::GrantLeases grant;
  *grant.mutable_caller() = tasks::node_caller();
  grant.add_task_ids("01J0TASK");
  grant.add_task_ids("01J0TASL");
  grant.set_worker_id("builtin-http-0");
  grant.set_lease_ms(30'000);
  test::check_round_trip(sys, grant);

  pb::LeaseResponse leases;
  *leases.add_leases() = filled_lease();
  test::check_round_trip(sys, leases);

  pb::HeartbeatLease heartbeat;
  *heartbeat.mutable_caller() = alice_worker();
  heartbeat.set_lease_id("01J0TASK.abcdefghijklm");
  heartbeat.set_lease_ms(60'000);
  test::check_round_trip(sys, heartbeat);

  pb::HeartbeatResponse beat;
  beat.mutable_lease_expires_at()->set_seconds(1'767'225'660);
  beat.set_cancel_requested(true);
  test::check_round_trip(sys, beat);

  pb::FinishLease fail;
  *fail.mutable_caller() = alice_worker();
  fail.set_lease_id("01J0TASK.abcdefghijklm");
  fail.set_error("printer on fire");
  fail.set_retryable(false);
  test::check_round_trip(sys, fail);

  pb::LeaseOutcome outcome;
  outcome.set_status(pb::Task::RETRYING);
  outcome.mutable_next_run_at()->set_seconds(1'767'225'610);
  test::check_round_trip(sys, outcome);

  pb::FinishLeases batch;
  auto& done = *batch.add_finishes();
  done = fail;
  done.set_success(true);
  *done.mutable_result() = report_payload();
  *batch.add_finishes() = fail;
  test::check_round_trip(sys, batch);

  pb::FinishOutcomes outcomes;
  auto& first = *outcomes.add_outcomes();
  first.set_lease_id("01J0TASK.abcdefghijklm");
  *first.mutable_done() = outcome;
  auto& second = *outcomes.add_outcomes();
  second.set_lease_id("01J0TASL.abcdefghijklm");
  second.mutable_refused()->set_code("conflict");
  second.mutable_refused()->set_message("lease is stale");
  auto back = test::message_round_trip(sys, outcomes);
  CHECK(back.outcomes(0).has_done());
  CHECK(back.outcomes(1).refused().code() == "conflict");

  pb::RevokeLeases revoke;
  *revoke.mutable_caller() = alice_worker();
  revoke.add_lease_ids("01J0TASK.abcdefghijklm");
  test::check_round_trip(sys, revoke);

  pb::TaskShardInspection inspection;
  inspection.set_shard(15);
  inspection.set_tasks_in_memory(3);
  (*inspection.mutable_by_status())["RUNNING"] = 2;
  (*inspection.mutable_by_status())["SCHEDULED"] = 1;
  inspection.set_timers(9);
  inspection.set_next_wake_ms(1'767'225'600'000);
  inspection.set_leases(2);
  inspection.set_keys_in_flight(1);
  inspection.set_writes_in_flight(4);
  inspection.set_passivating(true);
  test::check_round_trip(sys, inspection);
  // Reads an edge on another node asks of the shard.
  pb::TaskRead read;
  *read.mutable_caller() = alice_worker();
  read.set_task_id("01J0TASK");
  test::check_round_trip(sys, read);
  pb::TaskRunsRead runs_read;
  *runs_read.mutable_caller() = alice_worker();
  runs_read.set_task_id("01J0TASK");
  test::check_round_trip(sys, runs_read);
  pb::TaskListRead list_read;
  *list_read.mutable_caller() = alice_worker();
  list_read.set_status("failed");
  list_read.set_task_type("report");
  list_read.set_limit(100);
  list_read.set_cursor("01J0TASK");
  test::check_round_trip(sys, list_read);
  pb::Task public_task;
  public_task.set_id("01J0TASK");
  public_task.set_task_type("report");
  public_task.set_status(pb::Task::COMPLETED);
  *public_task.mutable_payload() = report_payload();
  *public_task.mutable_result() = report_payload();
  test::check_round_trip(sys, public_task);
  pb::TaskRuns runs;
  auto* run = runs.add_runs();
  run->set_attempt(2);
  run->set_outcome("completed");
  test::check_round_trip(sys, runs);
  pb::TaskList list;
  *list.add_tasks() = public_task;
  list.set_next_cursor("01J0TASK");
  test::check_round_trip(sys, list);
}

TEST_CASE_METHOD(fixture, "lease_broker_api: every request and reply crosses nodes") {
  test::check_interface<tasks::lease_broker_api>(sys);

  pb::LeaseWait wait;
  *wait.mutable_caller() = alice_worker();
  auto& req = *wait.mutable_request();
  req.set_worker_id("w1");
  req.add_task_types("report");
  req.add_task_types("email");
  req.set_max_tasks(10);
  req.set_lease_sec(60);
  req.set_wait_ms(20'000);
  wait.set_wait_id("poll:42");
  test::check_round_trip(sys, wait);

  pb::LeaseResponse leases;
  *leases.add_leases() = filled_lease();
  *leases.add_leases() = filled_lease();
  test::check_round_trip(sys, leases);

  pb::WithdrawWait withdraw;
  withdraw.set_wait_id("poll:42");
  test::check_round_trip(sys, withdraw);

  pb::ReadyTasks ready;
  auto& t = *ready.add_tasks();
  t.set_id("01J0TASK");
  t.set_task_type("report");
  t.set_owner("alice");
  t.set_priority(1000);
  t.set_due_ms(1'767'225'600'000);
  test::check_round_trip(sys, ready);

  pb::WithdrawTask gone;
  gone.set_task_id("01J0TASK");
  test::check_round_trip(sys, gone);

  // Between the brokers of a cluster.
  ready.set_relayed(true);
  test::check_round_trip(sys, ready);
  gone.set_relayed(true);
  test::check_round_trip(sys, gone);
  pb::TakenTasks taken;
  taken.add_task_ids("01J0TASK");
  taken.add_task_ids("01J0TASL");
  test::check_round_trip(sys, taken);
  pb::BrokerPosition at;
  test::check_round_trip(sys, at);
  at.set_node("n2");
  at.set_stream(0xfedcba9876543210ull);
  at.set_version(42);
  test::check_round_trip(sys, at);
  *ready.mutable_position() = at;
  test::check_round_trip(sys, ready);
  *gone.mutable_position() = at;
  test::check_round_trip(sys, gone);
  *taken.mutable_position() = at;
  test::check_round_trip(sys, taken);
}

// -- feed and links -----------------------------------------------------------------------------

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
  pb::PostShardInspection inspection;
  inspection.set_shard(15);
  inspection.set_pending_posts(2);
  inspection.set_pending_likes(300);
  inspection.set_pending_stats(1);
  inspection.set_pending_affinity(40);
  inspection.set_writes_in_flight(5);
  inspection.set_passivating(true);
  test::check_round_trip(sys, inspection);

  // Reads of another node's feed (cluster).
  pb::AuthorsQuery authors;
  authors.add_authors("alice");
  authors.add_authors("celebrity.1");
  authors.set_limit(50);
  test::check_round_trip(sys, authors);
  pb::AuthorsPosts recent;
  auto* a = recent.add_authors();
  a->set_author("alice");
  a->set_posts_count(12);
  auto* ref = a->add_posts();
  ref->set_post_id(post_id);
  ref->set_created_ms(1'764'500'000'123);
  ref->set_fanned_out(true);
  test::check_round_trip(sys, recent);
  pb::PostsQuery posts;
  posts.add_post_ids(post_id);
  test::check_round_trip(sys, posts);
  pb::StoredPosts records;
  auto* rec = records.add_posts();
  rec->set_post_id(post_id);
  rec->set_found(true);
  rec->mutable_post()->set_author_id("alice");
  rec->mutable_post()->set_text(text);
  records.add_posts()->set_post_id(comment_id);
  test::check_round_trip(sys, records);
  pb::AffinityQuery affinity;
  affinity.set_reader("bob");
  affinity.set_limit(1000);
  test::check_round_trip(sys, affinity);
  pb::Affinities affinities;
  (*affinities.mutable_by_author())["alice"] = 7;
  test::check_round_trip(sys, affinities);
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
  pb::FeedInspection inspection;
  inspection.set_user_id("bob.b-2_");
  inspection.set_followees_loaded(true);
  inspection.set_followees(4'000);
  inspection.set_ranked_snapshots(3);
  inspection.set_timeline_in_memory(true);
  test::check_round_trip(sys, inspection);
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
  pb::FanoutDelivery delivery;
  delivery.set_post_id(post_id);
  *delivery.mutable_post() = job.post();
  delivery.add_users("bob");
  delivery.add_users("carol");
  delivery.set_pulled(true);
  test::check_round_trip(sys, delivery);
  pb::FeedLiveItems items;
  items.set_post_id(post_id);
  *items.mutable_post() = job.post();
  items.add_users("bob");
  items.add_users("carol");
  test::check_round_trip(sys, items);
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
  pb::ClickBatch clicks;
  auto* click = clicks.add_clicks();
  click->set_key("aZ09xYz");
  click->set_referrer("news.example");
  click->set_at_ms(1'764'500'001'000);
  click->set_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)");
  clicks.add_clicks()->set_key("promo-2026");
  test::check_round_trip(sys, clicks);
}

TEST_CASE_METHOD(fixture, "the limit service interface crosses nodes, defaults and filled values") {
  test::check_interface<limits::limit_service_api>(sys);
  pb::RateLimitAsk ask;
  ask.set_rule("api-per-user");
  ask.set_key("svc:alice:export");
  ask.set_tier("pro");
  ask.set_cost(5);
  test::check_round_trip(sys, ask);
  pb::RateLimitVerdict verdict;
  verdict.set_matched(true);
  verdict.set_rule("api-per-user");
  verdict.set_limit(1200);
  verdict.set_remaining(0);
  verdict.set_reset_ms(1'764'500'060'000);
  verdict.set_retry_after_ms(59'000);
  verdict.set_window_sec(60);
  test::check_round_trip(sys, verdict);
}
