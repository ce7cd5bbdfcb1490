// The backup side of replication on a real RocksDB: records applied in lsn order with their
// position, resends and gaps, the fencing rules (only the map's primary, never an older epoch),
// and a reset followed by a copy of the partition from the primary's snapshot.
#include "cluster/replication/replica_service.hpp"

#include "actors/runtime/errors.hpp"
#include "cluster/link/link_types.hpp"
#include "storage/record.hpp"
#include "storage/record_owner.hpp"
#include "support/partition_by_first_letter.hpp"
#include "support/temp_db.hpp"
#include "support/test_system.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <variant>

using namespace parley;
using namespace std::chrono_literals;

namespace {

struct cluster_config : test::test_config {
  cluster_config() { cluster::add_message_types(*this); }
};


constexpr uint32_t part = 'c';  // conversations "c..." live in partition 'c'

pb::ReplRecord record(uint64_t epoch, uint64_t lsn, const std::string& conv) {
  pb::ReplRecord r;
  r.set_partition(part);
  r.set_epoch(epoch);
  r.set_lsn(lsn);
  auto* op = r.add_ops();
  op->set_family(static_cast<uint32_t>(storage::family::conversations));
  op->set_key(conv);
  op->set_value("record of " + conv);
  return r;
}

// A batch from `origin`, primary in the epoch of its last record (or `primary_epoch`).
pb::ReplBatch batch(const std::string& origin, std::vector<pb::ReplRecord> records,
                    uint64_t primary_epoch = 0) {
  pb::ReplBatch b;
  b.set_origin(origin);
  for (auto& r : records) {
    (*b.mutable_primary_epochs())[r.partition()] = primary_epoch ? primary_epoch : r.epoch();
    *b.add_records() = std::move(r);
  }
  return b;
}

struct fixture {
  test::temp_db tdb{storage::sync_mode::batch};
  storage::group_commit_writer writer{*tdb.db};
  std::shared_ptr<cluster::replication_map> map =
    std::make_shared<cluster::replication_map>("me", 256);
  cluster_config cfg;
  caf::actor_system sys{cfg};
  cluster::replica_api replica;
  caf::scoped_actor self{sys};

  fixture() {
    roles(5, "prim", "me");
    replica = cluster::spawn_replica_service(sys, {map, tdb.db.get(), &writer, test::by_first_letter});
  }
  ~fixture() { caf::anon_send_exit(replica, caf::exit_reason::user_shutdown); }

  void roles(uint64_t epoch, const std::string& primary, const std::string& backup) {
    std::vector<cluster::partition_role> all(256);
    all[part] = {epoch, primary, backup, true};
    map->update(all, {"me", "prim", "other"});
  }

  // The lsn the backup says it holds durably after `b`, or the error's code.
  std::variant<uint64_t, errc> send(const pb::ReplBatch& b) {
    std::variant<uint64_t, errc> out = errc::internal;
    self->request(replica, 5s, replicate_atom_v, b)
      .receive(
        [&](const pb::ReplAck& ack) {
          REQUIRE(ack.applied_size() == 1);
          out = ack.applied(0).lsn();
        },
        [&](const caf::error& e) { out = to_fault(e).code; });
    return out;
  }

  pb::ReplPosition position_of() {
    pb::ReplPosition out;
    self->request(replica, 5s, replica_position_atom_v, part)
      .receive([&](const pb::ReplPosition& at) { out = at; },
               [&](const caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  uint64_t position() { return position_of().lsn(); }

  std::optional<std::string> stored(const std::string& conv) {
    auto v = storage::read_value(*tdb.db, storage::family::conversations, conv);
    REQUIRE(v);
    return *v;
  }
};

using answer = std::variant<uint64_t, errc>;

} // namespace

TEST_CASE_METHOD(fixture, "a backup applies records in lsn order and a resend changes nothing") {
  CHECK(position() == 0);
  CHECK(send(batch("prim", {record(5, 1, "c1"), record(5, 2, "c2")})) == answer{uint64_t{2}});
  CHECK(stored("c2") == std::optional<std::string>{"record of c2"});
  CHECK(position() == 2);
  // The same batch again (the primary did not hear the answer): nothing new, the same answer.
  CHECK(send(batch("prim", {record(5, 1, "c1"), record(5, 2, "c2")})) == answer{uint64_t{2}});
  // Its own copy of the log, for when it is promoted and must bring up a backup itself.
  storage::replication_log log{*tdb.db};
  auto kept = log.read(part, 1, 1 << 20);
  REQUIRE(kept);
  CHECK(kept->size() == 2);
}

TEST_CASE_METHOD(fixture, "a record after a gap waits for the missing one") {
  CHECK(send(batch("prim", {record(5, 1, "c1"), record(5, 3, "c3")})) == answer{uint64_t{1}});
  CHECK(stored("c3") == std::nullopt);
  CHECK(send(batch("prim", {record(5, 2, "c2"), record(5, 3, "c3")})) == answer{uint64_t{3}});
  CHECK(stored("c3") == std::optional<std::string>{"record of c3"});
}

TEST_CASE_METHOD(fixture, "only the primary the map names may write, and never in an older epoch") {
  CHECK(send(batch("other", {record(5, 1, "c1")})) == answer{errc::unavailable});
  CHECK(send(batch("prim", {record(4, 1, "c1")})) == answer{errc::conflict});  // a fenced primary
  // Records keep the epoch they were written in; a catch-up ships old ones from a primary of
  // the current epoch, and that is what counts.
  CHECK(send(batch("prim", {record(4, 1, "c1")}, 4)) == answer{errc::conflict});
  roles(6, "prim", "other");  // the map moved the backup elsewhere
  CHECK(send(batch("prim", {record(6, 1, "c1")})) == answer{errc::unavailable});
  CHECK(stored("c1") == std::nullopt);
  CHECK(position() == 0);
  roles(7, "prim", "me");
  CHECK(send(batch("prim", {record(2, 1, "c1"), record(3, 2, "c2")}, 7)) == answer{uint64_t{2}});
}

TEST_CASE_METHOD(fixture, "a refused partition does not hold up the others of its batch") {
  std::vector<cluster::partition_role> all(256);
  all[part] = {5, "prim", "me", true};
  all['d'] = {5, "prim", "other", true};  // this node is not the backup of partition 'd'
  map->update(all, {"me", "prim", "other"});
  auto d = record(5, 1, "d1");
  d.set_partition('d');
  auto b = batch("prim", {record(5, 1, "c1"), d});
  pb::ReplAck ack;
  self->request(replica, 5s, replicate_atom_v, b)
    .receive([&](const pb::ReplAck& a) { ack = a; }, [&](const caf::error& e) { FAIL(sys.render(e)); });
  REQUIRE(ack.applied_size() == 1);
  CHECK(ack.applied(0).lsn() == 1);
  REQUIRE(ack.refused_size() == 1);
  CHECK(ack.refused(0) == 'd');
  CHECK(stored("c1") == std::optional<std::string>{"record of c1"});
  CHECK(stored("d1") == std::nullopt);
}

TEST_CASE_METHOD(fixture, "a reset erases the partition's records and log, and nothing of other partitions") {
  REQUIRE(send(batch("prim", {record(5, 1, "c1"), record(5, 2, "c2")})) == answer{uint64_t{2}});
  tdb.apply([](storage::write_set& ws) { ws.put(storage::family::conversations, "d1", "other"); });
  // A reset in an older epoch than the map's is refused (a former primary).
  fault old;
  self->request(replica, 5s, replica_reset_atom_v, part, uint64_t{4}, true)
    .receive([&](const pb::ReplPosition&) {}, [&](const caf::error& e) { old = to_fault(e); });
  CHECK(old.code == errc::conflict);
  CHECK(stored("c1") == std::optional<std::string>{"record of c1"});
  pb::ReplPosition at;
  self->request(replica, 5s, replica_reset_atom_v, part, uint64_t{6}, true)
    .receive([&](const pb::ReplPosition& p) { at = p; },
             [&](const caf::error& e) { FAIL(sys.render(e)); });
  CHECK(at.lsn() == 0);
  CHECK(at.epoch() == 6);
  CHECK(stored("c1") == std::nullopt);
  CHECK(stored("c2") == std::nullopt);
  CHECK(stored("d1") == std::optional<std::string>{"other"});
  CHECK(position() == 0);
  storage::replication_log log{*tdb.db};
  CHECK(log.first(part).value() == 0);
  // Records of the log wait for the copy the reset was for (its last slice says where the log
  // goes on).
  CHECK(send(batch("prim", {record(5, 1, "c1")})) == answer{uint64_t{0}});
  CHECK(stored("c1") == std::nullopt);
  // A reset for the whole log (the primary's log is complete from lsn 1) takes it at once.
  self->request(replica, 5s, replica_reset_atom_v, part, uint64_t{6}, false)
    .receive([&](const pb::ReplPosition&) {}, [&](const caf::error& e) { FAIL(sys.render(e)); });
  CHECK(send(batch("prim", {record(5, 1, "c1")})) == answer{uint64_t{1}});
  CHECK(stored("c1") == std::optional<std::string>{"record of c1"});
}

TEST_CASE_METHOD(fixture, "a backup that led the partition in between reports its own log's end") {
  REQUIRE(send(batch("prim", {record(5, 1, "c1"), record(5, 2, "c2")})) == answer{uint64_t{2}});
  REQUIRE(position() == 2);
  // The map makes this node the primary: its writer appends lsn 3 (epoch 6) to the same log and
  // records where it stands, with the data, in one batch (the replica service is not involved).
  roles(6, "me", "prim");
  tdb.apply([this](storage::write_set& ws) {
    auto r = record(6, 3, "c3");
    storage::replication_log{*tdb.db}.append(ws, r);
    REQUIRE_FALSE(storage::replication_log::apply(ws, r));
    pb::ReplPosition at;
    at.set_partition(part);
    at.set_epoch(6);
    at.set_lsn(3);
    storage::replication_log::put_applied(ws, at);
  });
  // Backup again, of a primary that never had lsn 3 of epoch 6: the position names that record,
  // so that the primary sees the divergence and resets this copy.
  roles(7, "prim", "me");
  auto at = position_of();
  CHECK(at.lsn() == 3);
  CHECK(at.epoch() == 6);
}

namespace {

pb::ReplCopy slice(const std::string& origin, uint64_t epoch, std::vector<std::string> convs,
                   std::optional<pb::ReplPosition> end = std::nullopt) {
  pb::ReplCopy c;
  c.set_origin(origin);
  c.set_partition(part);
  c.set_primary_epoch(epoch);
  for (auto& conv : convs) {
    auto* op = c.add_ops();
    op->set_family(static_cast<uint32_t>(storage::family::conversations));
    op->set_key(conv);
    op->set_value("copy of " + conv);
  }
  if (end) {
    c.set_last(true);
    *c.mutable_end() = *end;
  }
  return c;
}

} // namespace

TEST_CASE_METHOD(fixture, "a copy is taken only after a reset, slice by slice, and ends where its snapshot was") {
  auto copy = [&](const pb::ReplCopy& c) -> std::variant<pb::ReplPosition, errc> {
    std::variant<pb::ReplPosition, errc> out = errc::internal;
    self->request(replica, 5s, replica_copy_atom_v, c)
      .receive([&](const pb::ReplPosition& at) { out = at; },
               [&](const caf::error& e) { out = to_fault(e).code; });
    return out;
  };
  // Without a reset first: refused, nothing written.
  CHECK(std::get<errc>(copy(slice("prim", 5, {"c1"}))) == errc::conflict);
  CHECK(stored("c1") == std::nullopt);
  REQUIRE(send(batch("prim", {record(5, 1, "c0")})) == answer{uint64_t{1}});
  pb::ReplPosition reset;
  self->request(replica, 5s, replica_reset_atom_v, part, uint64_t{5}, true)
    .receive([&](const pb::ReplPosition& p) { reset = p; },
             [&](const caf::error& e) { FAIL(sys.render(e)); });
  CHECK(stored("c0") == std::nullopt);
  // Only from the map's primary, never in an older epoch, and data only.
  CHECK(std::get<errc>(copy(slice("other", 5, {"c1"}))) == errc::unavailable);
  CHECK(std::get<errc>(copy(slice("prim", 4, {"c1"}))) == errc::conflict);
  auto bad = slice("prim", 5, {});
  auto* op = bad.add_ops();
  op->set_family(static_cast<uint32_t>(storage::family::replog));
  op->set_key("x");
  CHECK(std::get<errc>(copy(bad)) == errc::bad_request);
  // Two slices; the last names the snapshot's log position.
  auto first = copy(slice("prim", 5, {"c1", "c2"}));
  REQUIRE(std::holds_alternative<pb::ReplPosition>(first));
  CHECK(std::get<pb::ReplPosition>(first).lsn() == 0);  // not done yet
  CHECK(position() == 0);
  pb::ReplPosition end;
  end.set_partition(part);
  end.set_epoch(4);
  end.set_lsn(7);
  auto last = copy(slice("prim", 5, {"c3"}, end));
  REQUIRE(std::holds_alternative<pb::ReplPosition>(last));
  CHECK(std::get<pb::ReplPosition>(last).lsn() == 7);
  CHECK(stored("c1") == std::optional<std::string>{"copy of c1"});
  CHECK(stored("c3") == std::optional<std::string>{"copy of c3"});
  CHECK(position_of().epoch() == 4);
  // The log goes on after it; a late slice of the finished copy is refused.
  CHECK(send(batch("prim", {record(5, 8, "c8")})) == answer{uint64_t{8}});
  CHECK(std::get<errc>(copy(slice("prim", 5, {"c9"}))) == errc::conflict);
  CHECK(stored("c9") == std::nullopt);
}
