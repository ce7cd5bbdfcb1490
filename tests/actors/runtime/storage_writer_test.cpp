#include "actors/runtime/storage_writer.hpp"
#include "support/test_system.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <atomic>

using namespace parley;
using namespace std::chrono_literals;

TEST_CASE("an actor's write is answered once it is durable, and is then readable") {
  test::temp_db tdb{storage::sync_mode::batch};
  auto& db = tdb.db;
  fault err;
  storage::group_commit_writer writer{*db};
  test::test_config cfg;
  caf::actor_system sys{cfg};
  auto actor = runtime::spawn_storage_writer(sys, writer);
  caf::scoped_actor self{sys};

  storage::write_set set;
  set.put(storage::family::meta, "hello", "world");
  bool ok = false;
  self->request(actor, 5s, write_atom_v, std::move(set))
    .receive([&]() { ok = true; }, [&](const caf::error& e) { FAIL(sys.render(e)); });
  REQUIRE(ok);
  CHECK(db->get(storage::family::meta, "hello", err) == std::optional<std::string>{"world"});

  SECTION("a write after the writer stopped answers unavailable") {
    writer.stop();
    storage::write_set late;
    late.put(storage::family::meta, "late", "x");
    fault seen;
    self->request(actor, 5s, write_atom_v, std::move(late))
      .receive([&]() {}, [&](const caf::error& e) { seen = to_fault(e); });
    CHECK(seen.code == errc::unavailable);
  }
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_CASE("a closed write fence answers a durable write with its fault, not success") {
  test::temp_db tdb{storage::sync_mode::batch};
  storage::group_commit_writer writer{*tdb.db};
  test::test_config cfg;
  caf::actor_system sys{cfg};
  std::atomic<bool> lease_held{true};
  auto actor = runtime::spawn_storage_writer(sys, writer, [&lease_held]() -> fault {
    if (lease_held)
      return {};
    return make_fault(errc::unavailable, "the membership lease is in doubt");
  });
  caf::scoped_actor self{sys};
  auto write = [&](const std::string& key) {
    storage::write_set set;
    set.put(storage::family::meta, key, "v");
    fault seen;
    bool ok = false;
    self->request(actor, 5s, write_atom_v, std::move(set))
      .receive([&]() { ok = true; }, [&](const caf::error& e) { seen = to_fault(e); });
    return ok ? fault{} : seen;
  };
  CHECK_FALSE(write("a"));
  lease_held = false;
  auto refused = write("b");
  CHECK(refused.code == errc::unavailable);
  CHECK(refused.message == "the membership lease is in doubt");
  lease_held = true;
  CHECK_FALSE(write("c"));
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}
