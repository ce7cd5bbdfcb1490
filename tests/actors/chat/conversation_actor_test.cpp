#include "actors/chat/conversation_actor.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/metrics.hpp"
#include "proto/parley.pb.h"
#include "storage/chat_store.hpp"
#include "storage/engine.hpp"
#include "support/deterministic_system.hpp"
#include "storage/key_codec.hpp"
#include "support/temp_db.hpp"
#include "support/test_system.hpp"

#include <catch2/catch.hpp>

#include <atomic>

using namespace parley;
using namespace std::chrono_literals;

namespace {

pb::ConversationSend send_request(const std::string& sender, const std::string& cmid,
                                  const std::string& body, const std::string& to_user,
                                  const std::string& session) {
  pb::ConversationSend req;
  req.set_sender_id(sender);
  req.set_client_msg_id(cmid);
  req.set_body(body);
  req.set_to_user(to_user);
  req.set_origin_session(session);
  return req;
}

pb::HistoryQuery history_of(const std::string& user, uint32_t limit) {
  pb::HistoryQuery q;
  q.set_user_id(user);
  q.set_limit(limit);
  return q;
}

// A storage writer that fails the first `failures` writes, then writes for real; the first
// `fenced` of those it writes and still answers `unavailable`, as a closed write fence does
// (runtime/storage_writer.hpp: on disk, not acknowledged).
caf::behavior flaky_writer(caf::event_based_actor* self, storage::engine* db,
                           std::shared_ptr<std::atomic<int>> failures,
                           std::shared_ptr<std::atomic<int>> fenced) {
  return {[db, failures, fenced](write_atom, storage::write_set& ws) -> caf::result<void> {
    if (failures->fetch_sub(1) > 0)
      return make_error(errc::unavailable, "disk on fire");
    if (auto err = db->write({&ws}, false))
      return make_error(err);
    if (fenced->fetch_sub(1) > 0)
      return make_error(errc::unavailable, "the membership lease is in doubt");
    return caf::unit;
  }};
}

struct fixture {
  test::temp_db tdb;
  std::unique_ptr<storage::engine>& db = tdb.db;
  std::unique_ptr<storage::chat_store> store;
  test::test_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<std::atomic<int>> failures = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<int>> fenced = std::make_shared<std::atomic<int>>(0);
  chat::chat_context_ptr ctx = std::make_shared<chat::chat_context>();

  fixture() {
    store = std::make_unique<storage::chat_store>(*db);
    ctx->store = store.get();
    ctx->storage_writer = caf::actor_cast<runtime::storage_writer_api>(sys.spawn(flaky_writer, db.get(), failures, fenced));
  }

  ~fixture() { caf::anon_send_exit(ctx->storage_writer, caf::exit_reason::user_shutdown); }

  // Sends one message; returns its seq, or 0 with `err` set.
  uint64_t send(const chat::conversation_api& conv, const std::string& cmid, fault& err) {
    caf::scoped_actor self{sys};
    uint64_t seq = 0;
    self->request(conv, 5s, send_atom_v, send_request("alice", cmid, "hi", "bob", "s-1"))
      .receive([&](const pb::ConversationAck& ack) { seq = ack.seq(); },
               [&](const caf::error& e) { err = to_fault(e); });
    return seq;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a failed write leaves no gap in seq and the send can be retried") {
  auto conv = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  failures->store(1);
  fault err;
  CHECK(send(conv, "m1", err) == 0);
  CHECK(err.code == errc::unavailable);
  // The conversation was not created by the failed write; the retry creates it with seq 1.
  fault none;
  CHECK(send(conv, "m1", none) == 1);
  CHECK_FALSE(none);
  CHECK(send(conv, "m2", none) == 2);
  auto last = store->last_seq("d:alice:bob");
  REQUIRE(last);
  CHECK(*last == 2);
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "sends stored but refused by a closed write fence keep their seqs") {
  auto conv = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  fault err;
  CHECK(send(conv, "m1", err) == 1);
  // The node's lease is in doubt: both sends are on disk, neither is acknowledged.
  fenced->store(2);
  fault refused;
  CHECK(send(conv, "m2", refused) == 0);
  CHECK(refused.code == errc::unavailable);
  CHECK(send(conv, "m3", refused) == 0);
  // Fence open again: a new send comes after them, and their retries get the seqs they have.
  fault none;
  CHECK(send(conv, "m4", none) == 4);
  CHECK(send(conv, "m2", none) == 2);
  CHECK(send(conv, "m3", none) == 3);
  CHECK_FALSE(none);
  auto stored = store->messages_between("d:alice:bob", 0, 10, 0);
  REQUIRE(stored);
  REQUIRE(stored->size() == 4);
  for (uint64_t i = 0; i < 4; ++i) {
    CHECK((*stored)[i].seq == i + 1);
    CHECK((*stored)[i].client_msg_id == "m" + std::to_string(i + 1));
  }
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a membership change stored but refused by a closed write fence is what the group then has") {
  std::string id = "g:fedcba9876543210fedcba9876543210";
  auto conv = chat::spawn_conversation(sys, ctx, id);
  caf::scoped_actor self{sys};
  pb::GroupCreate create;
  create.set_creator_id("alice");
  create.set_title("t");
  create.add_member_ids("alice");
  create.add_member_ids("bob");
  self->request(conv, 5s, create_atom_v, create)
    .receive([](const pb::Group&) {}, [](const caf::error& e) { FAIL(to_fault(e).message); });
  // carol's addition is written, but the lease is in doubt: refused.
  fenced->store(1);
  pb::MembersUpdate add;
  add.set_actor_id("alice");
  add.set_add(true);
  add.add_user_ids("carol");
  fault refused;
  self->request(conv, 5s, members_atom_v, add)
    .receive([](const pb::Group&) {}, [&](const caf::error& e) { refused = to_fault(e); });
  CHECK(refused.code == errc::unavailable);
  // What storage has is what the group has: carol is a member and may send.
  fault err;
  self->request(conv, 5s, send_atom_v, send_request("carol", "c1", "hello", "", "s-3"))
    .receive([](const pb::ConversationAck&) {}, [&](const caf::error& e) { err = to_fault(e); });
  CHECK_FALSE(err);
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a retried send is acknowledged only once its barrier write is") {
  auto conv = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  fault err;
  CHECK(send(conv, "m1", err) == 1);
  // The retry finds the dedup record; the original ack waits for the record's re-write, which
  // (replicated in order) vouches for the message itself, and fails with it.
  failures->store(1);
  fault refused;
  CHECK(send(conv, "m1", refused) == 0);
  CHECK(refused.code == errc::unavailable);
  fault none;
  CHECK(send(conv, "m1", none) == 1);
  CHECK_FALSE(none);
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a fresh activation continues seq from storage and keeps dedup") {
  auto first = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  fault err;
  CHECK(send(first, "m1", err) == 1);
  CHECK(send(first, "m2", err) == 2);
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  auto second = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  CHECK(send(second, "m2", err) == 2);
  CHECK(send(second, "m3", err) == 3);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a conversation that does not exist cannot be written by strangers") {
  auto conv = chat::spawn_conversation(sys, ctx, "d:bob:carol");
  caf::scoped_actor self{sys};
  fault err;
  // alice is not one of the pair: the direct conversation is not hers to open.
  self->request(conv, 5s, send_atom_v, send_request("alice", "m", "hi", "bob", "s"))
    .receive([](const pb::ConversationAck&) {}, [&](const caf::error& e) { err = to_fault(e); });
  CHECK(err.code == errc::not_found);
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
}

namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

struct held_write {
  caf::response_promise promise;
  storage::write_set ws;
};

struct gated_writer_state {
  bool holding = false;
  std::vector<held_write> held;
};

// A storage writer that holds writes while gated; (release_atom) writes what it holds and stops
// holding. Lets a test put a membership change behind a batch that is still being written.
caf::behavior gated_writer(caf::stateful_actor<gated_writer_state>* self, storage::engine* db) {
  return {
    [self, db](write_atom, storage::write_set& ws) -> caf::result<void> {
      if (!self->state.holding) {
        if (auto err = db->write({&ws}, false))
          return make_error(err);
        return caf::unit;
      }
      auto rp = self->make_response_promise();
      self->state.held.push_back(held_write{rp, std::move(ws)});
      return caf::delegated<void>{};
    },
    [self, db](release_atom, bool hold) {
      if (hold) {
        self->state.holding = true;
        return;
      }
      self->state.holding = false;
      auto held = std::move(self->state.held);
      self->state.held.clear();
      for (auto& h : held) {
        if (auto err = db->write({&h.ws}, false))
          h.promise.deliver(make_error(err));
        else
          h.promise.deliver(caf::unit);
      }
    },
  };
}

} // namespace

TEST_CASE_METHOD(fixture, "a member added while a batch is written joins after that batch") {
  auto writer = sys.spawn(gated_writer, db.get());
  ctx->storage_writer = caf::actor_cast<runtime::storage_writer_api>(writer);
  std::string id = "g:0123456789abcdef0123456789abcdef";
  auto conv = chat::spawn_conversation(sys, ctx, id);
  caf::scoped_actor self{sys};
  std::vector<std::string> members{"alice", "bob"};
  pb::GroupCreate create;
  create.set_creator_id("alice");
  create.set_title("t");
  for (auto& m : members)
    create.add_member_ids(m);
  self->request(conv, 5s, create_atom_v, create)
    .receive([](const pb::Group&) {}, [](const caf::error& e) { FAIL(to_fault(e).message); });

  self->send(writer, release_atom::value, true);  // hold from now on
  // Round trip to the writer: the hold is in place before the send reaches it.
  self->request(writer, 5s, write_atom_v, storage::write_set{}).receive([]() {}, [](caf::error&) {});
  auto send_handle = self->request(conv, 5s, send_atom_v,
                                   send_request("alice", "m1", "before carol", "", "s"));
  pb::MembersUpdate add;
  add.set_actor_id("alice");
  add.set_add(true);
  add.add_user_ids("carol");
  auto add_handle = self->request(conv, 5s, members_atom_v, add);
  // The conversation answers history at once: by then it handled the send and the change.
  self->request(conv, 5s, history_atom_v, history_of("alice", 10))
    .receive([](const pb::HistoryPage&) {}, [](const caf::error& e) { FAIL(to_fault(e).message); });
  auto rec = store->conversation(id);
  REQUIRE(rec);
  REQUIRE(*rec);
  CHECK((*rec)->members == members);  // the change waits for the batch: nothing written yet

  self->send(writer, release_atom::value, false);
  uint64_t seq = 0;
  send_handle.receive([&](const pb::ConversationAck& ack) { seq = ack.seq(); },
                      [](const caf::error& e) { FAIL(to_fault(e).message); });
  CHECK(seq == 1);
  add_handle.receive(
    [](const pb::Group& g) { CHECK(g.member_ids_size() == 3); },
    [](const caf::error& e) { FAIL(to_fault(e).message); });
  rec = store->conversation(id);
  REQUIRE(rec);
  REQUIRE(*rec);
  CHECK((*rec)->join_of("carol").after_seq == 1);  // carol never sees "before carol"
  CHECK((*rec)->admins == std::vector<std::string>{"alice"});
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
}

// -- on the deterministic coordinator -----------------------------------------------------------

namespace {

// The conversation actor with a gated writer on CAF's test coordinator: a test sees exactly
// when the write is durable, and time (the dedup window) passes only when it advances it.
struct deterministic_fixture : test::deterministic_system {
  test::temp_db tdb;
  std::unique_ptr<storage::chat_store> store = std::make_unique<storage::chat_store>(*tdb.db);
  chat::chat_context_ptr ctx = std::make_shared<chat::chat_context>();
  caf::actor writer;

  deterministic_fixture() {
    ctx->store = store.get();
    ctx->clock = clock();
    writer = own(sys.spawn(gated_writer, tdb.db.get()));
    ctx->storage_writer = caf::actor_cast<runtime::storage_writer_api>(writer);
  }

  ~deterministic_fixture() { stop(); }

  // The ack's (seq, sent_at_ms), once it came.
  std::shared_ptr<test::answer<pb::ConversationAck>> send(const chat::conversation_api& conv,
                                                          const std::string& cmid) {
    return ask<pb::ConversationAck>(conv, send_atom_v, send_request("alice", cmid, "hi", "bob", "s-1"));
  }

  static uint64_t seq_of(const test::answer<pb::ConversationAck>& a) {
    return std::get<0>(*a.value).seq();
  }
  static int64_t sent_at_of(const test::answer<pb::ConversationAck>& a) {
    return std::get<0>(*a.value).sent_at_ms();
  }

  uint64_t durable_seq() {
    auto seq = store->last_seq("d:alice:bob");
    REQUIRE(seq);
    return *seq;
  }
};

} // namespace

TEST_CASE_METHOD(deterministic_fixture, "a send is acknowledged with its seq only once it is durable") {
  auto conv = own(chat::spawn_conversation(sys, ctx, "d:alice:bob"));
  caf::anon_send(writer, release_atom::value, true);
  run();
  auto m1 = send(conv, "m1");
  auto m2 = send(conv, "m2");  // waits for the next batch: m1's write is still held
  CHECK_FALSE(m1->arrived());
  CHECK_FALSE(m2->arrived());
  CHECK(durable_seq() == 0);
  caf::anon_send(writer, release_atom::value, false);
  run();
  REQUIRE(m1->value);
  REQUIRE(m2->value);
  CHECK(seq_of(*m1) == 1);
  CHECK(seq_of(*m2) == 2);
  CHECK(sent_at_of(*m1) == now_ms());  // sent_at comes from the injected clock
  CHECK(durable_seq() == 2);
}

TEST_CASE_METHOD(deterministic_fixture, "a send repeated within 24 hours is answered from its first ack") {
  auto conv = own(chat::spawn_conversation(sys, ctx, "d:alice:bob"));
  auto first = send(conv, "m1");
  REQUIRE(first->value);
  auto sent_at = sent_at_of(*first);
  advance(std::chrono::hours{23} + std::chrono::minutes{59});
  auto again = send(conv, "m1");
  REQUIRE(again->value);
  // Same seq, same sent_at: nothing new was written.
  CHECK(seq_of(*again) == seq_of(*first));
  CHECK(sent_at_of(*again) == sent_at);
  CHECK(durable_seq() == 1);
  // A fresh activation reads the dedup record from storage and answers the same.
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
  auto second = own(chat::spawn_conversation(sys, ctx, "d:alice:bob"));
  auto after_restart = send(second, "m1");
  REQUIRE(after_restart->value);
  CHECK(seq_of(*after_restart) == seq_of(*first));
  CHECK(sent_at_of(*after_restart) == sent_at);
  // Past 24 hours the record no longer counts: the same client_msg_id is a new message.
  advance(std::chrono::minutes{1});
  auto late = send(second, "m1");
  REQUIRE(late->value);
  CHECK(seq_of(*late) == 2);
  CHECK(sent_at_of(*late) == sent_at + 24LL * 3600 * 1000);
  CHECK(durable_seq() == 2);
}

// -- corrupt records ----------------------------------------------------------------------------

namespace {

// Garbage where a record of `fam` is stored under `key`: it parses as no protobuf message and as
// no cursor value.
void corrupt(storage::engine& db, storage::family fam, const std::string& key) {
  storage::write_set ws;
  ws.put(fam, key, std::string("\xff\xff\xff", 3));
  REQUIRE_FALSE(db.write({&ws}, false));
}

uint64_t corrupt_count(const std::string& family) {
  return metrics::global()
    .get_counter("storage_corrupt_records_total", "Stored records or keys found corrupt when read",
                 "family=\"" + family + "\"")
    .value();
}

} // namespace

TEST_CASE_METHOD(fixture, "a retried send whose dedup record is corrupt fails instead of storing twice") {
  auto first = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  fault err;
  CHECK(send(first, "m1", err) == 1);
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  corrupt(*db, storage::family::dedup,
          storage::key_builder{}.str("alice").str("d:alice:bob").str("m1").bytes());
  auto counted = corrupt_count("dedup");
  // A fresh activation has no memory of m1: only the dedup record could say it was stored.
  auto second = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  CHECK(send(second, "m1", err) == 0);
  CHECK(err.code == errc::internal);
  CHECK(err.message.find("dedup") != std::string::npos);
  CHECK(corrupt_count("dedup") == counted + 1);
  auto last = store->last_seq("d:alice:bob");
  REQUIRE(last);
  CHECK(*last == 1);  // the retry was not stored as a second message
  // Other sends go on.
  fault none;
  CHECK(send(second, "m2", none) == 2);
  CHECK_FALSE(none);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a corrupt message in history is reported, not skipped") {
  auto conv = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  fault err;
  for (auto cmid : {"m1", "m2", "m3"})
    REQUIRE(send(conv, cmid, err) > 0);
  corrupt(*db, storage::family::messages, storage::key_builder{}.str("d:alice:bob").u64(2).bytes());
  auto counted = corrupt_count("messages");
  caf::scoped_actor self{sys};
  fault history_err;
  self->request(conv, 5s, history_atom_v, history_of("alice", 10))
    .receive([](const pb::HistoryPage& page) { FAIL("answered with a page of "
                                                    << page.messages_size()); },
             [&](const caf::error& e) { history_err = to_fault(e); });
  CHECK(history_err.code == errc::internal);
  CHECK(history_err.message.find("messages") != std::string::npos);
  CHECK(corrupt_count("messages") == counted + 1);
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a conversation whose record is corrupt answers internal, not unknown") {
  auto first = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  fault err;
  CHECK(send(first, "m1", err) == 1);
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  corrupt(*db, storage::family::conversations, "d:alice:bob");
  auto second = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  // Taken for absent, the send would open the conversation again over its history.
  CHECK(send(second, "m2", err) == 0);
  CHECK(err.code == errc::internal);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a corrupt read cursor fails the receipt instead of reading as zero") {
  auto conv = chat::spawn_conversation(sys, ctx, "d:alice:bob");
  fault err;
  REQUIRE(send(conv, "m1", err) == 1);
  corrupt(*db, storage::family::cursors,
          storage::key_builder{}.u8('r').str("bob").str("d:alice:bob").bytes());
  caf::scoped_actor self{sys};
  fault summary_err;
  self->request(conv, 5s, summary_atom_v, std::string{"bob"})
    .receive([](const pb::ConversationSummary&) { FAIL("answered a summary"); },
             [&](const caf::error& e) { summary_err = to_fault(e); });
  CHECK(summary_err.code == errc::internal);
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
}
