// A partition's records read from a snapshot in slices (what a backup that cannot catch up from
// the log is sent), and erased before a copy arrives.
#include "storage/partition_copy.hpp"

#include "storage/chat_store.hpp"
#include "storage/record_owner.hpp"

#include "support/partition_by_first_letter.hpp"
#include "support/result_checks.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace parley;
using namespace parley::storage;
using parley::test::by_first_letter;
using parley::test::ok;

namespace {

pb::ReplRecord log_record(uint32_t partition, uint64_t epoch, uint64_t lsn) {
  pb::ReplRecord r;
  r.set_partition(partition);
  r.set_epoch(epoch);
  r.set_lsn(lsn);
  return r;
}

struct fixture {
  test::temp_db t;
  replication_log log{*t.db};
  chat_store chat{*t.db};

  // Conversations "a0".."a<n-1>" and "b0".."b<n-1>", a message each, and a device (a node
  // record); partition 'a' logged up to lsn 3 in epoch 2.
  void fill(int n) {
    t.apply([&](write_set& ws) {
      for (int i = 0; i < n; ++i)
        for (auto* p : {"a", "b"})
          chat.put_message(ws, p + std::to_string(i),
                           chat_message{1, "ann", "m" + std::to_string(i), "hi", 1});
      chat.put_device(ws, "ann", "phone");
      for (uint64_t lsn = 1; lsn <= 3; ++lsn)
        log.append(ws, log_record('a', 2, lsn));
    });
  }

  std::vector<pb::ReplOp> copy_all(partition_copy& copy, size_t max_bytes, size_t max_visits,
                                   int& slices) {
    std::vector<pb::ReplOp> ops;
    for (slices = 1;; ++slices) {
      auto next = ok(copy.next(max_bytes, max_visits));
      for (auto& op : next.ops)
        ops.push_back(op);
      if (next.done)
        return ops;
      REQUIRE(slices < 10000);
    }
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a copy holds every record of its partition and nothing else, in slices") {
  fill(50);
  auto copy = ok(partition_copy::start(*t.db, 'a', by_first_letter));
  CHECK(copy.end().lsn() == 3);
  CHECK(copy.end().epoch() == 2);
  int slices = 0;
  auto ops = copy_all(copy, 512, 40, slices);
  CHECK(slices > 3);  // small slices: the copy took several
  std::set<std::string> keys;
  for (auto& op : ops) {
    auto owner = ok(by_first_letter(static_cast<family>(op.family()), op.key()));
    REQUIRE(owner);
    CHECK(*owner == 'a');
    CHECK(replicated_family(static_cast<family>(op.family())));
    CHECK_FALSE(op.is_delete());
    keys.insert(std::to_string(op.family()) + "/" + op.key());
  }
  CHECK(keys.size() == ops.size());  // no record twice across slices
  CHECK(copy.records() == ops.size());
  // The same partition's records in one go: the slices missed none.
  auto whole = ok(partition_copy::start(*t.db, 'a', by_first_letter));
  int one = 0;
  CHECK(copy_all(whole, 1 << 30, 1 << 30, one).size() == ops.size());
  CHECK(one == 1);
}

TEST_CASE_METHOD(fixture, "a copy is one moment: what is written after it started is not in it") {
  fill(5);
  auto copy = ok(partition_copy::start(*t.db, 'a', by_first_letter));
  auto before = ok(partition_copy::start(*t.db, 'a', by_first_letter));
  int slices = 0;
  auto expected = copy_all(before, 1 << 20, 1 << 20, slices).size();
  t.apply([&](write_set& ws) {
    chat.put_message(ws, "a-late", chat_message{1, "ann", "late", "hi", 1});
    log.append(ws, log_record('a', 2, 4));
  });
  CHECK(copy.end().lsn() == 3);
  auto ops = copy_all(copy, 64, 3, slices);  // read slice by slice while the store moved on
  CHECK(ops.size() == expected);
  for (auto& op : ops)
    CHECK(op.key().find("a-late") == std::string::npos);
}

TEST_CASE_METHOD(fixture, "erasing a partition deletes its records and log, nothing of the others") {
  fill(5);
  write_set ws;
  REQUIRE_FALSE(erase_partition(*t.db, 'a', by_first_letter, ws));
  t.apply([&](write_set& out) { out = std::move(ws); });
  auto a = ok(partition_copy::start(*t.db, 'a', by_first_letter));
  int slices = 0;
  CHECK(copy_all(a, 1 << 20, 1 << 20, slices).empty());
  CHECK(a.end().lsn() == 0);  // its log went too
  auto b = ok(partition_copy::start(*t.db, 'b', by_first_letter));
  CHECK(copy_all(b, 1 << 20, 1 << 20, slices).size() > 5);
  CHECK(ok(chat.devices_of("ann")).size() == 1);  // the node's own record stayed
}
