#include "storage/engine.hpp"
#include "storage/key_codec.hpp"
#include "storage/meta_store.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace parley;
using namespace parley::storage;

namespace {

std::unique_ptr<engine> open_at(const std::string& dir, sync_mode mode = sync_mode::none) {
  return test::open_engine(dir, mode);
}

} // namespace

TEST_CASE("a new data directory is created with every column family, and reopens") {
  test::temp_dir dir;
  auto path = dir.path() + "/nested/db";
  {
    auto db = open_at(path);
    write_set set;
    set.put(family::meta, "k", "v");
    REQUIRE_FALSE(db->write({&set}, true));
  }
  auto db = open_at(path);
  fault err;
  CHECK(db->get(family::meta, "k", err) == std::optional<std::string>{"v"});
  CHECK_FALSE(err);
  CHECK_FALSE(db->get(family::meta, "absent", err).has_value());
  CHECK_FALSE(err);
}

TEST_CASE("an unusable data directory is a clear error, not a crash") {
  test::temp_dir dir;
  auto file = dir.path() + "/not-a-dir";
  std::ofstream{file} << "x";
  storage_options opts;
  opts.data_dir = file;
  fault err;
  CHECK(engine::open(opts, err) == nullptr);
  CHECK(err.code == errc::internal);
  CHECK(err.message.find("not-a-dir") != std::string::npos);
}

TEST_CASE("scans visit a key range in order, forwards and backwards") {
  test::temp_dir dir;
  auto db = open_at(dir.path());
  write_set set;
  for (uint64_t seq = 1; seq <= 10; ++seq)
    set.put(family::meta, key_builder{}.str("c1").u64(seq).bytes(), std::to_string(seq));
  set.put(family::meta, key_builder{}.str("c2").u64(1).bytes(), "other");
  REQUIRE_FALSE(db->write({&set}, false));

  auto from = key_builder{}.str("c1").u64(3).bytes();
  auto to = key_builder{}.str("c1").u64(7).bytes();
  std::vector<std::string> seen;
  auto collect = [&](std::string_view, std::string_view v) {
    seen.emplace_back(v);
    return true;
  };
  REQUIRE_FALSE(db->scan(family::meta, from, to, collect));
  CHECK(seen == std::vector<std::string>{"3", "4", "5", "6"});

  seen.clear();
  REQUIRE_FALSE(db->scan_reverse(family::meta, from, to, collect, 2));
  CHECK(seen == std::vector<std::string>{"6", "5"});

  seen.clear();
  auto prefix = key_builder{}.str("c1").bytes();
  REQUIRE_FALSE(db->scan_reverse(family::meta, prefix, prefix_successor(prefix), collect, 1));
  CHECK(seen == std::vector<std::string>{"10"});
}

TEST_CASE("the node id is created once and survives restarts") {
  test::temp_dir dir;
  std::string first;
  {
    auto db = open_at(dir.path());
    auto id = meta_store{*db}.load_or_create_node_id();
    REQUIRE(id);
    first = *id;
    CHECK(first.rfind("n-", 0) == 0);
  }
  auto db = open_at(dir.path());
  auto again = meta_store{*db}.load_or_create_node_id();
  REQUIRE(again);
  CHECK(*again == first);
}

TEST_CASE("a data directory written by a newer schema is refused") {
  test::temp_dir dir;
  auto db = open_at(dir.path());
  write_set set;
  set.put(family::meta, "schema_version", std::to_string(schema_version + 1));
  REQUIRE_FALSE(db->write({&set}, true));
  auto id = meta_store{*db}.load_or_create_node_id();
  REQUIRE_FALSE(id);
  CHECK(id.error().code == errc::internal);
  CHECK(id.error().message.find("schema version") != std::string::npos);
}

TEST_CASE("a schema version that is not a number is a corrupt record, not version 0") {
  test::temp_dir dir;
  auto db = open_at(dir.path());
  write_set set;
  set.put(family::meta, "schema_version", "1x");
  REQUIRE_FALSE(db->write({&set}, true));
  auto id = meta_store{*db}.load_or_create_node_id();
  REQUIRE_FALSE(id);
  CHECK(id.error().code == errc::internal);
  CHECK(id.error().message.find("corrupt record in meta under key \"schema_version\"")
        != std::string::npos);
}

TEST_CASE("a store is marked as holding only replicated records only when it starts empty under replication") {
  test::temp_db t;
  meta_store meta{*t.db};
  REQUIRE(meta.load_or_create_node_id());  // the node's own records do not count
  auto first = meta.note_replication(true);
  REQUIRE(first);
  CHECK(*first);
  CHECK(*meta.note_replication(true));  // kept across starts
  // One start without replication clears the mark for good once data is written.
  CHECK_FALSE(*meta.note_replication(false));
  t.apply([](write_set& ws) { ws.put(family::conversations, "c1", "v"); });
  CHECK_FALSE(*meta.note_replication(true));

  test::temp_db with_data;
  with_data.apply([](write_set& ws) { ws.put(family::messages, "m", "v"); });
  CHECK_FALSE(*meta_store{*with_data.db}.note_replication(true));
}
