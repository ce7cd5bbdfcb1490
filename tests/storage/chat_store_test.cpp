#include "storage/chat_store.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::storage;

namespace {

// A record from its first four fields (the group fields keep their defaults).
conversation_record make_record(bool group, std::string title, std::vector<std::string> members,
                                int64_t created_at_ms) {
  conversation_record rec;
  rec.group = group;
  rec.title = std::move(title);
  rec.members = std::move(members);
  rec.created_at_ms = created_at_ms;
  return rec;
}

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
  auto rec = make_record(true, "trip", {"alice", "bob"}, 42);
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
  auto rec = make_record(true, "", {"alice"}, 0);
  store->put_conversation(ws, "g", rec, {}, {"bob"});
  commit(ws);
  fault err;
  CHECK(store->conversations_of("bob", err).empty());
  CHECK(store->pending_of("bob", err).empty());
}

TEST_CASE_METHOD(fixture, "a group record keeps its admins, creator and join points") {
  write_set ws;
  auto rec = make_record(true, "team", {"alice", "bob", "carol"}, 42);
  rec.admins = {"alice"};
  rec.creator = "alice";
  rec.joins["carol"] = member_join{17, 3};
  rec.next_join_order = 4;
  store->put_conversation(ws, "g:2", rec, rec.members, {});
  commit(ws);
  fault err;
  auto back = store->conversation("g:2", err);
  REQUIRE(back);
  CHECK(back->admins == rec.admins);
  CHECK(back->creator == "alice");
  CHECK(back->join_of("carol").after_seq == 17);
  CHECK(back->join_of("carol").order == 3);
  CHECK(back->join_of("bob").after_seq == 0);  // a founding member
  CHECK(back->next_join_order == 4);
}

TEST_CASE_METHOD(fixture, "groups_of lists a user's groups only, and is_member is one point read") {
  write_set ws;
  auto group = make_record(true, "g", {"alice", "bob"}, 1);
  auto direct = make_record(false, "", {"alice", "bob"}, 1);
  store->put_conversation(ws, "g:b", group, group.members, {});
  store->put_conversation(ws, "g:a", group, group.members, {});
  store->put_conversation(ws, "d:alice:bob", direct, direct.members, {});
  store->put_conversation(ws, "g:c", group, {"alicex"}, {});  // a user whose id extends alice's
  commit(ws);
  fault err;
  CHECK(store->groups_of("alice", err) == std::vector<std::string>{"g:a", "g:b"});
  CHECK(store->conversations_of("alice", err).size() == 3);
  CHECK(store->is_member("alice", "d:alice:bob", err));
  CHECK_FALSE(store->is_member("alice", "g:c", err));
  CHECK_FALSE(err);
}

TEST_CASE_METHOD(fixture, "history can start above a member's join point") {
  add_messages("g:h", 1, 10, {"a"});
  fault err;
  auto page = store->history("g:h", 0, 100, err, 6);
  REQUIRE(page.size() == 4);
  CHECK(page.front().seq == 10);
  CHECK(page.back().seq == 7);
  CHECK(store->history("g:h", 7, 100, err, 6).empty());
  CHECK(store->history("g:h", 9, 100, err, 6).size() == 2);
}
