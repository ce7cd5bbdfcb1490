// The link store: a key is taken once used (live or tombstone) or reserved, expired links are
// found by time, and records that do not parse are reported rather than taken for absent.
#include "storage/link_store.hpp"

#include "support/result_checks.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::storage;
using parley::test::ok;

namespace {

pb::StoredLink link(int64_t expires_at_ms) {
  pb::StoredLink l;
  l.set_long_url("https://example.com/a");
  l.set_state(pb::StoredLink::LIVE);
  l.set_expires_at_ms(expires_at_ms);
  return l;
}

struct fixture {
  test::temp_db t;
  link_store store{*t.db};
};

} // namespace

TEST_CASE_METHOD(fixture, "a key is taken while reserved and for ever once used, and expiry finds it by time") {
  t.apply([&](write_set& ws) {
    store.reserve(ws, "rsv0001");
    store.reserve(ws, "use0001");
  });
  CHECK(ok(store.key_taken("rsv0001")));
  CHECK_FALSE(ok(store.key_taken("new0001")));
  CHECK(ok(store.reserved_keys()) == std::vector<std::string>{"rsv0001", "use0001"});
  t.apply([&](write_set& ws) { store.put_link(ws, "use0001", link(5000)); });
  CHECK(ok(store.reserved_keys()) == std::vector<std::string>{"rsv0001"});
  CHECK(ok(store.get("use0001"))->long_url() == "https://example.com/a");
  CHECK(ok(store.expired_keys(4999, 10)).empty());
  CHECK(ok(store.expired_keys(5000, 10)) == std::vector<std::string>{"use0001"});
  t.apply([&](write_set& ws) {
    store.put_tombstone(ws, "use0001", link(5000), pb::StoredLink::EXPIRED);
  });
  CHECK(ok(store.key_taken("use0001")));
  CHECK(ok(store.get("use0001"))->state() == pb::StoredLink::EXPIRED);
  CHECK(ok(store.expired_keys(9000, 10)).empty());
  CHECK_FALSE(ok(store.get("new0001")));
  CHECK_FALSE(ok(store.get_stats("use0001")));
}

TEST_CASE_METHOD(fixture, "a corrupt link or statistics record is reported with its family and key") {
  t.apply([&](write_set& ws) {
    ws.put(family::links, "bad0001", "\xff\xff\xff");
    ws.put(family::link_stats, "bad0001", "\xff\xff\xff");
  });
  auto l = store.get("bad0001");
  REQUIRE_FALSE(l);
  CHECK(l.error().code == errc::internal);
  CHECK(l.error().message.find("links") != std::string::npos);
  CHECK(l.error().message.find("bad0001") != std::string::npos);
  auto s = store.get_stats("bad0001");
  REQUIRE_FALSE(s);
  CHECK(s.error().message.find("link_stats") != std::string::npos);
  CHECK(ok(store.key_taken("bad0001")));  // the entry exists, whatever it holds
}
