// The replication log on disk: records appended with their data, read back in lsn order within
// a byte budget, trimmed from the front; a backup's applied position written with the data it
// applied; write sets cut into per-partition records.
#include "storage/chat_store.hpp"
#include "storage/key_codec.hpp"
#include "storage/record.hpp"
#include "storage/record_owner.hpp"
#include "storage/replication_log.hpp"

#include "support/partition_by_first_letter.hpp"
#include "support/result_checks.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::storage;
using parley::test::by_first_letter;
using parley::test::ok;

namespace {

pb::ReplRecord record(uint32_t partition, uint64_t epoch, uint64_t lsn, std::string key) {
  pb::ReplRecord r;
  r.set_partition(partition);
  r.set_epoch(epoch);
  r.set_lsn(lsn);
  auto* op = r.add_ops();
  op->set_family(static_cast<uint32_t>(family::conversations));
  op->set_key(std::move(key));
  op->set_value("v");
  return r;
}

struct fixture {
  test::temp_db t;
  replication_log log{*t.db};
  chat_store chat{*t.db};
};

} // namespace

TEST_CASE_METHOD(fixture, "a write set is cut into one record per partition, without the node's own records") {
  write_set ws;
  chat.put_message(ws, "a-conv", chat_message{1, "ann", "m1", "hi", 1});
  chat.put_device(ws, "ann", "phone");
  chat.put_message(ws, "b-conv", chat_message{4, "bob", "m2", "yo", 2});
  chat.put_read(ws, "ann", "a-conv", 1);
  auto parts = ok(split_by_partition(ws, by_first_letter));
  REQUIRE(parts.size() == 2);
  auto& a = parts.at('a');
  CHECK(a.partition() == 'a');
  CHECK(a.ops_size() == 3);  // the message, its dedup record, the read cursor
  CHECK(parts.at('b').ops_size() == 2);
  for (auto& op : a.ops())
    CHECK(ok(owner_of_record(static_cast<family>(op.family()), op.key())).id == "a-conv");

  write_set bad;
  bad.put(family::messages, "not a message key", "x");
  CHECK_FALSE(split_by_partition(bad, by_first_letter));
}

TEST_CASE_METHOD(fixture, "the log reads back in lsn order within a byte budget and trims from the front") {
  CHECK(ok(log.last(7)).lsn() == 0);
  CHECK(ok(log.first(7)) == 0);
  t.apply([&](write_set& ws) {
    for (uint64_t lsn = 1; lsn <= 5; ++lsn)
      log.append(ws, record(7, 2, lsn, "k" + std::to_string(lsn)));
    log.append(ws, record(8, 1, 1, "other"));
  });
  CHECK(ok(log.last(7)).lsn() == 5);
  CHECK(ok(log.last(7)).epoch() == 2);
  CHECK(ok(log.first(7)) == 1);
  auto all = ok(log.read(7, 2, 1 << 20));
  REQUIRE(all.size() == 4);
  CHECK(all.front().lsn() == 2);
  CHECK(all.back().lsn() == 5);
  CHECK(all.back().ops(0).key() == "k5");
  // A budget smaller than one record still returns one, so a reader always moves on.
  CHECK(ok(log.read(7, 1, 1)).size() == 1);
  CHECK(ok(log.read(7, 6, 1 << 20)).empty());

  write_set trim;
  CHECK(ok(log.trim(trim, 7, 4, 2)) == 2);  // at most two at a time
  t.apply([&](write_set& ws) { ws = trim; });
  CHECK(ok(log.first(7)) == 3);
  write_set rest;
  CHECK(ok(log.trim(rest, 7, 4, 100)) == 1);
  t.apply([&](write_set& ws) { ws = rest; });
  CHECK(ok(log.first(7)) == 4);
  CHECK(ok(log.last(8)).lsn() == 1);  // other partitions untouched
}

TEST_CASE_METHOD(fixture, "a backup applies a record's ops together with the position it reaches") {
  CHECK(ok(log.applied(3)).lsn() == 0);
  auto r = record(3, 4, 9, "conv-x");
  t.apply([&](write_set& ws) { REQUIRE_FALSE(replication_log::apply(ws, r)); });
  auto at = ok(log.applied(3));
  CHECK(at.epoch() == 4);
  CHECK(at.lsn() == 9);
  CHECK(ok(read_value(*t.db, family::conversations, "conv-x")) == std::optional<std::string>{"v"});

  // Replication's own bookkeeping, the node's meta and unknown families never come from a peer.
  for (uint32_t fam : {uint32_t(family::replog), uint32_t(family::repl_applied),
                       uint32_t(family::meta), uint32_t(family_count), 999u}) {
    auto bad = record(3, 4, 10, "conv-y");
    bad.mutable_ops(0)->set_family(fam);
    write_set ws;
    CHECK(replication_log::apply(ws, bad).code == errc::bad_request);
    CHECK(ws.empty());
  }
}

TEST_CASE_METHOD(fixture, "a log entry or position that does not parse is an error, not a gap") {
  t.apply([&](write_set& ws) {
    ws.put(family::replog, key_builder{}.u32(5).u64(1).bytes(), "garbage");
    ws.put(family::repl_applied, key_builder{}.u32(5).bytes(), "garbage");
  });
  CHECK(log.last(5).error().code == errc::internal);
  CHECK(log.read(5, 1, 100).error().code == errc::internal);
  CHECK(log.applied(5).error().code == errc::internal);
}

TEST_CASE_METHOD(fixture, "a log's extent: its first and last lsn and about its bytes") {
  CHECK(ok(log.measure('a')).last == 0);
  t.apply([&](write_set& ws) {
    for (uint64_t lsn = 1; lsn <= 10; ++lsn)
      log.append(ws, record('a', 1, lsn, "a" + std::to_string(lsn)));
  });
  t.apply([&](write_set& ws) { REQUIRE(ok(log.trim(ws, 'a', 4, 100)) == 3); });
  auto e = ok(log.measure('a', 4));
  CHECK(e.first == 4);
  CHECK(e.last == 10);
  // Seven records of about the same size: the estimate is seven times one of them.
  auto one = record('a', 1, 10, "a10").SerializeAsString().size();
  CHECK(e.bytes >= 7 * one);
  CHECK(e.bytes <= 7 * (one + 16));
}
