#include "storage/chat_store.hpp"

#include "common/metrics.hpp"
#include "storage/key_codec.hpp"
#include "support/result_checks.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::storage;
using parley::test::ok;

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
  auto back = ok(store->conversation("g:1"));
  REQUIRE(back);
  CHECK(back->group);
  CHECK(back->title == "trip");
  CHECK(back->members == rec.members);
  CHECK(ok(store->conversations_of("bob")) == std::vector<std::string>{"g:1"});
  CHECK_FALSE(ok(store->conversation("g:unknown")));
}

TEST_CASE_METHOD(fixture, "last_seq finds the newest message without reading the others") {
  CHECK(ok(store->last_seq("d:a:b")) == 0);
  add_messages("d:a:b", 1, 300, {"a", "b"});
  add_messages("d:a:bb", 1, 5, {"a", "bb"});  // a neighbouring key range
  CHECK(ok(store->last_seq("d:a:b")) == 300);
}

TEST_CASE_METHOD(fixture, "history pages newest first and messages_between oldest first") {
  add_messages("c", 1, 120, {"alice", "bob"});
  auto page = ok(store->history("c", 0, 50));
  REQUIRE(page.size() == 50);
  CHECK(page.front().seq == 120);
  CHECK(page.back().seq == 71);
  auto older = ok(store->history("c", 71, 50));
  CHECK(older.front().seq == 70);
  auto between = ok(store->messages_between("c", 10, 13, 0));
  REQUIRE(between.size() == 3);
  CHECK(between.front().seq == 11);
  CHECK(between.back().seq == 13);
  CHECK(ok(store->messages_between("c", 118, UINT64_MAX, 0)).size() == 2);
}

TEST_CASE_METHOD(fixture, "dedup records remember the original seq") {
  add_messages("c", 1, 3, {"alice"});
  auto d = ok(store->dedup("alice", "c", "c2"));
  REQUIRE(d);
  CHECK(d->seq == 2);
  CHECK_FALSE(ok(store->dedup("alice", "c", "nope")));
  CHECK_FALSE(ok(store->dedup("bob", "c", "c2")));
}

TEST_CASE_METHOD(fixture, "the pending index lists a user's conversations with new messages until cleared") {
  add_messages("c1", 1, 2, {"alice", "bob"});
  add_messages("c2", 1, 1, {"bob", "carol"});
  auto pending = ok(store->pending_of("bob"));
  REQUIRE(pending.size() == 2);
  CHECK(pending[0] == std::pair<std::string, uint64_t>{"c1", 2});
  write_set ws;
  store->clear_pending(ws, "bob", "c1");
  commit(ws);
  CHECK(ok(store->pending_of("bob")).size() == 1);
  CHECK(ok(store->pending_of("alice")).size() == 1);
}

TEST_CASE_METHOD(fixture, "cursors are per device for delivery and per user for reading") {
  write_set ws;
  store->put_delivered(ws, "bob", "phone", "c", 7);
  store->put_device(ws, "bob", "phone");
  store->put_read(ws, "bob", "c", 5);
  commit(ws);
  CHECK(ok(store->delivered("bob", "phone", "c")) == 7);
  CHECK(ok(store->delivered("bob", "laptop", "c")) == 0);
  CHECK(ok(store->read("bob", "c")) == 5);
  CHECK(ok(store->devices_of("bob")) == std::vector<std::string>{"phone"});
}

TEST_CASE_METHOD(fixture, "removed members leave the membership and pending indexes") {
  add_messages("g", 1, 1, {"alice", "bob"});
  write_set ws;
  auto rec = make_record(true, "", {"alice"}, 0);
  store->put_conversation(ws, "g", rec, {}, {"bob"});
  commit(ws);
  CHECK(ok(store->conversations_of("bob")).empty());
  CHECK(ok(store->pending_of("bob")).empty());
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
  auto back = ok(store->conversation("g:2"));
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
  CHECK(ok(store->groups_of("alice")) == std::vector<std::string>{"g:a", "g:b"});
  CHECK(ok(store->conversations_of("alice")).size() == 3);
  CHECK(ok(store->is_member("alice", "d:alice:bob")));
  CHECK_FALSE(ok(store->is_member("alice", "g:c")));
}

TEST_CASE_METHOD(fixture, "history can start above a member's join point") {
  add_messages("g:h", 1, 10, {"a"});
  auto page = ok(store->history("g:h", 0, 100, 6));
  REQUIRE(page.size() == 4);
  CHECK(page.front().seq == 10);
  CHECK(page.back().seq == 7);
  CHECK(ok(store->history("g:h", 7, 100, 6)).empty());
  CHECK(ok(store->history("g:h", 9, 100, 6)).size() == 2);
}

namespace {

// Garbage where a record of `fam` is stored under `key` (no protobuf message, no cursor value).
void put_garbage(engine& db, family fam, const std::string& key) {
  write_set ws;
  ws.put(fam, key, std::string("\xff\xff\xff", 3));
  REQUIRE_FALSE(db.write({&ws}, false));
}

uint64_t corrupt_count(const std::string& fam) {
  return metrics::global()
    .get_counter("storage_corrupt_records_total", "Stored records or keys found corrupt when read",
                 "family=\"" + fam + "\"")
    .value();
}

// The read failed as corrupt: internal, naming the family and the key.
template <class T>
void check_corrupt(const result<T>& r, const std::string& fam, const std::string& printable) {
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::internal);
  CHECK(r.error().message.find(fam) != std::string::npos);
  CHECK(r.error().message.find(printable) != std::string::npos);
}

} // namespace

TEST_CASE_METHOD(fixture, "a corrupt dedup record is an error, never taken for no record") {
  add_messages("c", 1, 2, {"alice"});
  auto counted = corrupt_count("dedup");
  put_garbage(*db, family::dedup, key_builder{}.str("alice").str("c").str("c2").bytes());
  // The key is shown with its separators escaped: alice\x00\x01c\x00\x01c2\x00\x01.
  check_corrupt(store->dedup("alice", "c", "c2"), "dedup", "alice\\x00\\x01c\\x00\\x01c2");
  CHECK(corrupt_count("dedup") == counted + 1);
  CHECK(ok(store->dedup("alice", "c", "c1")));  // its neighbours still read
}

TEST_CASE_METHOD(fixture, "a corrupt message fails history and messages_between instead of being skipped") {
  add_messages("c", 1, 5, {"alice"});
  auto counted = corrupt_count("messages");
  put_garbage(*db, family::messages, key_builder{}.str("c").u64(3).bytes());
  check_corrupt(store->history("c", 0, 10), "messages", "c\\x00\\x01");
  check_corrupt(store->messages_between("c", 0, 5, 0), "messages", "c\\x00\\x01");
  CHECK(corrupt_count("messages") == counted + 2);
  // Pages that do not reach it still read.
  CHECK(ok(store->history("c", 0, 2)).size() == 2);
  CHECK(ok(store->messages_between("c", 0, 2, 0)).size() == 2);
}

TEST_CASE_METHOD(fixture, "a message key that does not parse fails last_seq") {
  add_messages("c", 1, 2, {"alice"});
  // A key under the conversation's prefix with a truncated seq.
  put_garbage(*db, family::messages, key_builder{}.str("c").bytes() + "\x01");
  check_corrupt(store->last_seq("c"), "messages", "c\\x00\\x01\\x01");
}

TEST_CASE_METHOD(fixture, "corrupt conversation records and cursors are errors, not absent or zero") {
  put_garbage(*db, family::conversations, "g:1");
  check_corrupt(store->conversation("g:1"), "conversations", "g:1");
  put_garbage(*db, family::cursors, key_builder{}.u8('d').str("bob").str("phone").str("c").bytes());
  check_corrupt(store->delivered("bob", "phone", "c"), "cursors", "dbob");
  put_garbage(*db, family::cursors, key_builder{}.u8('r').str("bob").str("c").bytes());
  check_corrupt(store->read("bob", "c"), "cursors", "rbob");
  put_garbage(*db, family::presence, "bob");
  check_corrupt(store->last_seen_ms("bob"), "presence", "bob");
  put_garbage(*db, family::pending, key_builder{}.str("bob").str("c").bytes());
  check_corrupt(store->pending_of("bob"), "pending", "bob");
}
