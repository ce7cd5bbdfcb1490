// The link service through its typed interface (links_api.hpp) on CAF's deterministic
// coordinator: creates, owner-only deletes, the reads the edge asks of it, and a purge on demand.
#include "actors/links/link_service.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/clock.hpp"
#include "storage/link_store.hpp"
#include "support/deterministic_system.hpp"
#include "support/direct_writer.hpp"
#include "support/fake_placement.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;

namespace {

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
    ctx->storage_writer = caf::actor_cast<runtime::storage_writer_api>(own(sys.spawn(test::direct_writer, tdb.db.get())));
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

// -- in a cluster ---------------------------------------------------------------------------------

namespace {

// A stand-in for another node's link service: remembers what it was told, answers creates.
caf::behavior peer_service(caf::event_based_actor*, std::vector<std::string>* uncached) {
  return {
    [uncached](uncache_atom, const pb::LinkKey& key) { uncached->push_back(key.key()); },
    [](create_atom, const pb::NewLink& msg) {
      pb::LinkRecord rec;
      rec.set_key("from-n2");
      rec.mutable_link()->set_long_url(msg.request().long_url());
      return rec;
    },
  };
}

// n1's link service in a cluster of two: keys that start with a capital letter are n1's.
struct clustered : fixture {
  std::shared_ptr<test::fake_placement> view = std::make_shared<test::fake_placement>();
  std::vector<std::string> uncached;
  caf::actor n2 = own(sys.spawn(peer_service, &uncached));

  clustered() {
    view->live = {"n1", "n2"};
    view->where = [](std::string_view, std::string_view key) -> runtime::entity_location {
      if (!key.empty() && key[0] >= 'A' && key[0] <= 'Z')
        return {};
      return test::remote_at("n2");
    };
    ctx->router = test::router_of(sys, "n1", view, [this](auto&, auto&) { return n2; });
  }

  ~clustered() {
    stop();
    ctx->router->stop();
  }
};

} // namespace

TEST_CASE_METHOD(clustered, "in a cluster a node hands out keys of its own partitions only") {
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i)
    keys.push_back(create(new_link("alice")).key());
  for (auto& key : keys) {
    INFO(key);
    CHECK(ctx->owns(key));
  }
  // A delete reaches the other nodes' redirect caches.
  REQUIRE(ask<>(service, delete_atom_v, deletion(keys[0], "alice"))->arrived());
  CHECK(uncached == std::vector<std::string>{keys[0]});
}

TEST_CASE_METHOD(clustered, "an alias another node owns is refused here, one of this node's is created") {
  auto elsewhere = ask<pb::LinkRecord>(service, create_atom_v, new_link("alice", "promo"));
  REQUIRE(elsewhere->error);
  CHECK(code_of(elsewhere->error) == errc::unavailable);
  CHECK(create(new_link("alice", "Promo")).key() == "Promo");
}

TEST_CASE_METHOD(clustered, "a node that owns no partition passes creates to an owner") {
  view->where = [](std::string_view, std::string_view) { return test::remote_at("n2"); };
  auto made = create(new_link("alice"));
  CHECK(made.key() == "from-n2");
  CHECK(made.link().long_url() == "https://example.com/a?b=c");
}
