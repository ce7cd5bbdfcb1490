#include "storage/chat_store.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::storage;

namespace {

struct fixture {
  test::temp_db tdb;
  std::unique_ptr<engine>& db = tdb.db;
  std::unique_ptr<chat_store> store = std::make_unique<chat_store>(*db);

  void commit(write_set& ws) { REQUIRE_FALSE(db->write({&ws}, false)); }

  void add_messages(const std::string& conv, uint64_t from, uint64_t to,
                    const std::vector<std::string>& members) {
    write_set ws;
    for (uint64_t seq = from; seq <= to; ++seq)
      store->put_message(ws, conv, chat_message{seq, "alice", "c" + std::to_string(seq), "body", 1000});
    store->put_pending(ws, conv, to, members);
    commit(ws);
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a conversation record and its members round-trip") {
  write_set ws;
  conversation_record rec{true, "trip", {"alice", "bob"}, 42};
  store->put_conversation(ws, "g:1", rec, rec.members, {});
  commit(ws);
  fault err;
  auto back = store->conversation("g:1", err);
  REQUIRE(back);
  CHECK(back->group);
  CHECK(back->title == "trip");
  CHECK(back->members == rec.members);
  CHECK(store->conversations_of("bob", err) == std::vector<std::string>{"g:1"});
  CHECK_FALSE(store->conversation("g:unknown", err));
}

TEST_CASE_METHOD(fixture, "last_seq finds the newest message without reading the others") {
  fault err;
  CHECK(store->last_seq("d:a:b", err) == 0);
  add_messages("d:a:b", 1, 300, {"a", "b"});
  add_messages("d:a:bb", 1, 5, {"a", "bb"});  // a neighbouring key range
  CHECK(store->last_seq("d:a:b", err) == 300);
}

TEST_CASE_METHOD(fixture, "history pages newest first and messages_between oldest first") {
  add_messages("c", 1, 120, {"alice", "bob"});
  fault err;
  auto page = store->history("c", 0, 50, err);
  REQUIRE(page.size() == 50);
  CHECK(page.front().seq == 120);
  CHECK(page.back().seq == 71);
  auto older = store->history("c", 71, 50, err);
  CHECK(older.front().seq == 70);
  auto between = store->messages_between("c", 10, 13, 0, err);
  REQUIRE(between.size() == 3);
  CHECK(between.front().seq == 11);
  CHECK(between.back().seq == 13);
  CHECK(store->messages_between("c", 118, UINT64_MAX, 0, err).size() == 2);
}

TEST_CASE_METHOD(fixture, "dedup records remember the original seq") {
  add_messages("c", 1, 3, {"alice"});
  fault err;
  auto d = store->dedup("alice", "c", "c2", err);
  REQUIRE(d);
  CHECK(d->seq == 2);
  CHECK_FALSE(store->dedup("alice", "c", "nope", err));
  CHECK_FALSE(store->dedup("bob", "c", "c2", err));
}

TEST_CASE_METHOD(fixture, "the pending index lists a user's conversations with new messages until cleared") {
  add_messages("c1", 1, 2, {"alice", "bob"});
  add_messages("c2", 1, 1, {"bob", "carol"});
  fault err;
  auto pending = store->pending_of("bob", err);
  REQUIRE(pending.size() == 2);
  CHECK(pending[0] == std::pair<std::string, uint64_t>{"c1", 2});
  write_set ws;
  store->clear_pending(ws, "bob", "c1");
  commit(ws);
  CHECK(store->pending_of("bob", err).size() == 1);
  CHECK(store->pending_of("alice", err).size() == 1);
}

TEST_CASE_METHOD(fixture, "cursors are per device for delivery and per user for reading") {
  write_set ws;
  store->put_delivered(ws, "bob", "phone", "c", 7);
  store->put_device(ws, "bob", "phone");
  store->put_read(ws, "bob", "c", 5);
  commit(ws);
  fault err;
  CHECK(store->delivered("bob", "phone", "c", err) == 7);
  CHECK(store->delivered("bob", "laptop", "c", err) == 0);
  CHECK(store->read("bob", "c", err) == 5);
  CHECK(store->devices_of("bob", err) == std::vector<std::string>{"phone"});
}

TEST_CASE_METHOD(fixture, "removed members leave the membership and pending indexes") {
  add_messages("g", 1, 1, {"alice", "bob"});
  write_set ws;
  conversation_record rec{true, "", {"alice"}, 0};
  store->put_conversation(ws, "g", rec, {}, {"bob"});
  commit(ws);
  fault err;
  CHECK(store->conversations_of("bob", err).empty());
  CHECK(store->pending_of("bob", err).empty());
}
