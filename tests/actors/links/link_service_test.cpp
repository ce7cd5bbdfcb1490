// The link service through its typed interface (links_api.hpp) on CAF's deterministic
// coordinator: creates, owner-only deletes, the reads the edge asks of it, and a purge on demand.
#include "actors/links/link_service.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/clock.hpp"
#include "storage/link_store.hpp"
#include "support/deterministic_system.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;

namespace {

// Writes each write set at once: the service's durable writes complete within run().
caf::behavior writer_at_once(caf::event_based_actor*, storage::engine* db) {
  return {[db](write_atom, storage::write_set& ws) -> caf::result<void> {
    if (auto err = db->write({&ws}, false))
      return make_error(err);
    return caf::unit;
  }};
}

// The click aggregator's stand-in: remembers the links it was told are gone.
caf::behavior gone_log(caf::event_based_actor*, std::vector<std::string>* gone) {
  return {[gone](delete_atom, const std::string& key) { gone->push_back(key); }};
}

struct fixture : test::deterministic_system {
  test::temp_db tdb;
  std::unique_ptr<storage::link_store> store = std::make_unique<storage::link_store>(*tdb.db);
  links::links_context_ptr ctx = std::make_shared<links::links_context>(links::link_options{});
  std::vector<std::string> gone;
  caf::actor service;

  fixture() {
    ctx->store = store.get();
    ctx->storage_writer = caf::actor_cast<runtime::storage_writer_api>(own(sys.spawn(writer_at_once, tdb.db.get())));
    ctx->aggregator = own(sys.spawn(gone_log, &gone));
    ctx->reserved_segments = {"api"};
    service = own(caf::actor_cast<caf::actor>(links::spawn_link_service(sys, ctx)));
    run();  // the first expiry sweep finds nothing
  }

  ~fixture() { stop(); }

  pb::NewLink new_link(const std::string& owner, const std::string& alias = {}) {
    pb::NewLink msg;
    msg.set_owner_id(owner);
    msg.mutable_request()->set_long_url("https://example.com/a?b=c");
    msg.mutable_request()->set_custom_alias(alias);
    return msg;
  }

  pb::LinkRecord create(const pb::NewLink& msg) {
    auto a = ask<pb::LinkRecord>(service, create_atom_v, msg);
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }

  pb::LinkDeletion deletion(const std::string& key, const std::string& user, bool admin = false) {
    pb::LinkDeletion msg;
    msg.set_key(key);
    msg.set_user_id(user);
    msg.set_admin(admin);
    return msg;
  }

  pb::LinkKey key_of(const std::string& key) {
    pb::LinkKey k;
    k.set_key(key);
    return k;
  }

  static errc code_of(const caf::error& err) { return to_fault(err).code; }
};

} // namespace

TEST_CASE_METHOD(fixture, "the link service creates, describes and deletes through its interface") {
  auto created = create(new_link("alice"));
  CHECK(created.key().size() == 7);
  CHECK(created.link().owner_id() == "alice");
  CHECK(created.link().redirect() == 302);

  auto read = ask<pb::LinkRecord>(service, read_atom_v, key_of(created.key()));
  REQUIRE(read->value);
  CHECK(std::get<0>(*read->value).link().long_url() == "https://example.com/a?b=c");

  auto refused = ask<>(service, delete_atom_v, deletion(created.key(), "mallory"));
  CHECK(code_of(refused->error) == errc::forbidden);
  auto deleted = ask<>(service, delete_atom_v, deletion(created.key(), "alice"));
  CHECK(deleted->value);
  CHECK(gone == std::vector<std::string>{created.key()});

  auto after = ask<pb::LinkRecord>(service, read_atom_v, key_of(created.key()));
  CHECK(code_of(after->error) == errc::not_found);
  // The redirect's lookup sees the tombstone, so a cache filled from it answers 404 too.
  auto lookup = ask<pb::LinkLookup>(service, resolve_atom_v, key_of(created.key()));
  REQUIRE(lookup->value);
  CHECK(std::get<0>(*lookup->value).found());
  CHECK(std::get<0>(*lookup->value).link().state() == pb::StoredLink::DELETED);
}

TEST_CASE_METHOD(fixture, "a custom alias is taken once, and bad requests name the problem") {
  create(new_link("alice", "promo"));
  auto again = ask<pb::LinkRecord>(service, create_atom_v, new_link("bob", "promo"));
  CHECK(code_of(again->error) == errc::conflict);
  auto reserved = ask<pb::LinkRecord>(service, create_atom_v, new_link("bob", "api"));
  CHECK(code_of(reserved->error) == errc::bad_request);
  auto bad_url = new_link("bob");
  bad_url.mutable_request()->set_long_url("ftp://example.com/");
  auto refused = ask<pb::LinkRecord>(service, create_atom_v, bad_url);
  CHECK(code_of(refused->error) == errc::bad_request);
  CHECK(to_fault(refused->error).message.find("long_url") != std::string::npos);
}

TEST_CASE_METHOD(fixture, "a key never used is looked up as not found, and stats need a live link") {
  auto lookup = ask<pb::LinkLookup>(service, resolve_atom_v, key_of("nEvEr12"));
  REQUIRE(lookup->value);
  CHECK_FALSE(std::get<0>(*lookup->value).found());
  pb::LinkStatsQuery q;
  q.set_key("nEvEr12");
  auto stats = ask<pb::LinkStats>(service, read_atom_v, q);
  CHECK(code_of(stats->error) == errc::not_found);
  q.set_key(create(new_link("alice")).key());
  auto fresh = ask<pb::LinkStats>(service, read_atom_v, q);
  REQUIRE(fresh->value);
  CHECK(std::get<0>(*fresh->value).clicks() == 0);
}

TEST_CASE_METHOD(fixture, "a purge on demand turns expired links into tombstones and says how many") {
  // Two links that expired a second ago, written as the service would have written them.
  storage::write_set ws;
  pb::StoredLink link;
  link.set_long_url("https://example.com/old");
  link.set_redirect(302);
  link.set_created_at_ms(unix_ms() - 60'000);
  link.set_expires_at_ms(unix_ms() - 1'000);
  link.set_owner_id("alice");
  store->put_link(ws, "old0001", link);
  store->put_link(ws, "old0002", link);
  REQUIRE_FALSE(tdb.db->write({&ws}, false));

  auto purged = ask<uint64_t>(service, purge_atom_v);
  REQUIRE(purged->value);
  CHECK(std::get<0>(*purged->value) == 2);
  CHECK(gone.size() == 2);
  auto read = ask<pb::LinkRecord>(service, read_atom_v, key_of("old0001"));
  CHECK(code_of(read->error) == errc::gone);
  auto lookup = ask<pb::LinkLookup>(service, resolve_atom_v, key_of("old0002"));
  REQUIRE(lookup->value);
  CHECK(std::get<0>(*lookup->value).link().state() == pb::StoredLink::EXPIRED);

  auto again = ask<uint64_t>(service, purge_atom_v);
  REQUIRE(again->value);
  CHECK(std::get<0>(*again->value) == 0);
}

TEST_CASE_METHOD(fixture, "a link whose record is corrupt answers internal to reads and deletes") {
  tdb.apply([&](storage::write_set& ws) {
    ws.put(storage::family::links, "bad0001", "\xff\xff\xff");
  });
  // Taken for absent, a redirect would answer 404 for a link that exists, and the key could look
  // free to a custom alias.
  auto lookup = ask<pb::LinkLookup>(service, resolve_atom_v, key_of("bad0001"));
  CHECK(code_of(lookup->error) == errc::internal);
  auto read = ask<pb::LinkRecord>(service, read_atom_v, key_of("bad0001"));
  CHECK(code_of(read->error) == errc::internal);
  auto deleted = ask<>(service, delete_atom_v, deletion("bad0001", "alice"));
  CHECK(code_of(deleted->error) == errc::internal);
  auto alias = ask<pb::LinkRecord>(service, create_atom_v, new_link("alice", "bad0001"));
  CHECK(code_of(alias->error) == errc::conflict);  // the key is taken, whatever its record holds
}
