// A post shard through its typed interface (feed_api.hpp) on CAF's deterministic coordinator:
// posts, engagements and comments are durable before they are answered, the shard answers the
// reads the edge asks of it, and requests no shard should get are refused with a reason.
#include "actors/feed/post_shard.hpp"
#include "common/time_ordered_id.hpp"
#include "storage/feed_store.hpp"
#include "storage/key_codec.hpp"
#include "support/deterministic_system.hpp"
#include "support/direct_writer.hpp"
#include "support/result_checks.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using parley::test::ok;

namespace {

// A fan-out worker's stand-in: remembers the jobs it was given.
feed::fanout_api::behavior_type job_log(feed::fanout_api::pointer,
                                        std::vector<pb::FanoutJob>* jobs) {
  return {[jobs](fanout_atom, pb::FanoutJob& job) { jobs->push_back(job); },
          [](fanout_atom, pb::FanoutDelivery&) {}, [](fanout_atom, pb::FeedLiveItems&) {}};
}

// A user whose posts live in a shard other than `shard`.
std::string user_outside(uint32_t shard) {
  for (int i = 0;; ++i) {
    auto user = "user" + std::to_string(i);
    if (id_shard(user, feed::post_shard_count) != shard)
      return user;
  }
}

struct fixture : test::deterministic_system {
  test::temp_db tdb;
  std::unique_ptr<storage::feed_store> store = std::make_unique<storage::feed_store>(*tdb.db);
  feed::feed_context_ptr ctx = std::make_shared<feed::feed_context>(feed::feed_options{});
  std::vector<pb::FanoutJob> jobs;
  uint32_t shard = id_shard("alice", feed::post_shard_count);
  caf::actor posts;

  fixture() {
    ctx->store = store.get();
    ctx->storage_writer = caf::actor_cast<runtime::storage_writer_api>(own(sys.spawn(test::direct_writer, tdb.db.get())));
    auto worker = sys.spawn(job_log, &jobs);
    own(caf::actor_cast<caf::actor>(worker));
    ctx->fanout.push_back(worker);
    posts = own(caf::actor_cast<caf::actor>(feed::spawn_post_shard(sys, ctx, shard)));
  }

  ~fixture() { stop(); }

  pb::Post create(const std::string& author, const std::string& text) {
    pb::NewPost msg;
    msg.set_author_id(author);
    msg.mutable_request()->set_text(text);
    auto a = ask<pb::Post>(posts, create_atom_v, msg);
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }

  pb::Engagement engagement(pb::Engagement::Kind kind, const std::string& post_id,
                            const std::string& user) {
    pb::Engagement msg;
    msg.set_kind(kind);
    msg.set_post_id(post_id);
    msg.set_user_id(user);
    return msg;
  }

  pb::Post engage(pb::Engagement::Kind kind, const std::string& post_id, const std::string& user) {
    auto a = ask<pb::Post>(posts, engage_atom_v, engagement(kind, post_id, user));
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }

  pb::PostQuery query(const std::string& post_id) {
    pb::PostQuery q;
    q.set_post_id(post_id);
    return q;
  }

  static errc code_of(const caf::error& err) { return to_fault(err).code; }
};

} // namespace

TEST_CASE_METHOD(fixture, "a post shard stores a post before answering and hands it to fan-out") {
  auto post = create("alice", "hello");
  CHECK(post.author_id() == "alice");
  CHECK(post.text() == "hello");
  CHECK(id_shard(post.post_id(), feed::post_shard_count) == shard);
  CHECK(ok(store->post(post.post_id())));
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].post_id() == post.post_id());
  CHECK(jobs[0].post().fanned_out());

  auto read = ask<pb::Post>(posts, read_atom_v, query(post.post_id()));
  REQUIRE(read->value);
  CHECK(std::get<0>(*read->value).text() == "hello");
}

TEST_CASE_METHOD(fixture, "likes are idempotent per user, shares count every time, comments list") {
  auto id = create("alice", "hello").post_id();
  CHECK(engage(pb::Engagement::LIKE, id, "bob").likes() == 1);
  CHECK(engage(pb::Engagement::LIKE, id, "bob").likes() == 1);
  CHECK(engage(pb::Engagement::SHARE, id, "bob").shares() == 1);
  CHECK(engage(pb::Engagement::SHARE, id, "bob").shares() == 2);
  CHECK(engage(pb::Engagement::UNLIKE, id, "bob").likes() == 0);

  pb::NewComment comment;
  comment.set_post_id(id);
  comment.set_user_id("bob");
  comment.set_text("nice");
  auto added = ask<pb::Comment>(posts, create_atom_v, comment);
  REQUIRE(added->value);
  CHECK(std::get<0>(*added->value).author_id() == "bob");
  pb::CommentsQuery list;
  list.set_post_id(id);
  auto page = ask<pb::CommentList>(posts, read_atom_v, list);
  REQUIRE(page->value);
  REQUIRE(std::get<0>(*page->value).comments_size() == 1);
  CHECK(std::get<0>(*page->value).comments(0).text() == "nice");
}

TEST_CASE_METHOD(fixture, "only the author or an admin deletes a post, and it is gone for readers") {
  auto id = create("alice", "hello").post_id();
  pb::PostDeletion deletion;
  deletion.set_post_id(id);
  deletion.set_user_id("mallory");
  auto refused = ask<>(posts, delete_atom_v, deletion);
  CHECK(code_of(refused->error) == errc::forbidden);
  deletion.set_admin(true);
  auto deleted = ask<>(posts, delete_atom_v, deletion);
  CHECK(deleted->value);
  auto read = ask<pb::Post>(posts, read_atom_v, query(id));
  CHECK(code_of(read->error) == errc::not_found);
  auto again = ask<>(posts, delete_atom_v, deletion);
  CHECK(code_of(again->error) == errc::not_found);
}

TEST_CASE_METHOD(fixture, "a post shard refuses what another shard owns or no client can mean") {
  pb::NewPost elsewhere;
  elsewhere.set_author_id(user_outside(shard));
  elsewhere.mutable_request()->set_text("hello");
  auto misrouted = ask<pb::Post>(posts, create_atom_v, elsewhere);
  CHECK(code_of(misrouted->error) == errc::bad_request);
  CHECK(to_fault(misrouted->error).message.find("post shard") != std::string::npos);
  CHECK(jobs.empty());

  auto id = create("alice", "hello").post_id();
  auto unknown = ask<pb::Post>(posts, engage_atom_v,
                               engagement(static_cast<pb::Engagement::Kind>(7), id, "bob"));
  CHECK(code_of(unknown->error) == errc::bad_request);

  pb::NewPost empty;
  empty.set_author_id("alice");
  auto no_text = ask<pb::Post>(posts, create_atom_v, empty);
  CHECK(code_of(no_text->error) == errc::bad_request);
}

TEST_CASE_METHOD(fixture, "a corrupt affinity or author count fails the write instead of restarting at zero") {
  auto id = create("alice", "hello").post_id();
  tdb.apply([&](storage::write_set& ws) {
    using storage::key_builder;
    ws.put(storage::family::affinity, key_builder{}.str("bob").str("alice").bytes(), "abc");
    ws.put(storage::family::feed_users, key_builder{}.u8('a').str("alice").bytes(), "\xff\xff\xff");
  });
  auto liked = ask<pb::Post>(posts, engage_atom_v, engagement(pb::Engagement::LIKE, id, "bob"));
  CHECK(code_of(liked->error) == errc::internal);
  auto read = ask<pb::Post>(posts, read_atom_v, query(id));
  REQUIRE(read->value);
  CHECK(std::get<0>(*read->value).likes() == 0);  // nothing was written
  // The author's post count is read and written back: taken for absent, it would restart at 1.
  pb::NewPost msg;
  msg.set_author_id("alice");
  msg.mutable_request()->set_text("again");
  auto again = ask<pb::Post>(posts, create_atom_v, msg);
  CHECK(code_of(again->error) == errc::internal);
}
