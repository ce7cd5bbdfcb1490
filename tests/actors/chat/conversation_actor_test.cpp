#include "actors/chat/conversation_actor.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "storage/chat_store.hpp"
#include "storage/engine.hpp"
#include "support/temp_db.hpp"
#include "support/test_system.hpp"

#include <catch2/catch.hpp>

#include <atomic>

using namespace parley;
using namespace std::chrono_literals;

namespace {

// A storage writer that fails the first `failures` writes, then writes for real.
caf::behavior flaky_writer(caf::event_based_actor* self, storage::engine* db,
                           std::shared_ptr<std::atomic<int>> failures) {
  return {[db, failures](write_atom, storage::write_set& ws) -> caf::result<void> {
    if (failures->fetch_sub(1) > 0)
      return make_error(errc::unavailable, "disk on fire");
    if (auto err = db->write({&ws}, false))
      return make_error(err);
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
  chat::chat_context_ptr ctx = std::make_shared<chat::chat_context>();

  fixture() {
    store = std::make_unique<storage::chat_store>(*db);
    ctx->store = store.get();
    ctx->storage_writer = sys.spawn(flaky_writer, db.get(), failures);
  }

  ~fixture() { caf::anon_send_exit(ctx->storage_writer, caf::exit_reason::user_shutdown); }

  // Sends one message; returns its seq, or 0 with `err` set.
  uint64_t send(const caf::actor& conv, const std::string& cmid, fault& err) {
    caf::scoped_actor self{sys};
    uint64_t seq = 0;
    self->request(conv, 5s, send_atom_v, std::string{"alice"}, cmid, std::string{"hi"},
                  std::string{"bob"}, std::string{"s-1"})
      .receive([&](uint64_t s, int64_t) { seq = s; },
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
  fault read_err;
  CHECK(store->last_seq("d:alice:bob", read_err) == 2);
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
  self->request(conv, 5s, send_atom_v, std::string{"alice"}, std::string{"m"},
                std::string{"hi"}, std::string{"bob"}, std::string{"s"})
    .receive([](uint64_t, int64_t) {}, [&](const caf::error& e) { err = to_fault(e); });
  CHECK(err.code == errc::not_found);
  caf::anon_send_exit(conv, caf::exit_reason::user_shutdown);
}
