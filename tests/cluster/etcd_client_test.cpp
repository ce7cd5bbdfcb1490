// The etcd client against a real etcd (support/etcd_server): keys, leases, compare-and-set,
// watches; and against endpoints that are down, silent or answer nonsense.
#include "cluster/etcd_client.hpp"
#include "support/etcd_server.hpp"
#include "support/one_shot_server.hpp"

#include <boost/asio.hpp>
#include <catch2/catch.hpp>

#include <thread>

using namespace parley;
using namespace parley::cluster;
using parley::test::etcd_server;
using parley::test::one_shot_server;
using namespace std::chrono_literals;

namespace {

etcd_options reaching(std::vector<std::string> endpoints) {
  etcd_options opts;
  opts.endpoints = std::move(endpoints);
  return opts;
}

// An endpoint where nothing listens: its port was free a moment ago.
std::string closed_endpoint() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor probe{ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return "http://127.0.0.1:" + std::to_string(probe.local_endpoint().port());
}

using clock_type = std::chrono::steady_clock;

} // namespace

// -- keys ---------------------------------------------------------------------------------------

TEST_CASE("keys round-trip through put, get, range and remove, binary bytes included") {
  etcd_server etcd;
  etcd_client client{reaching({etcd.endpoint()})};
  // Any bytes: base64 in the gateway's JSON must carry NUL, 0xff, quotes and newlines.
  std::string binary_key{"/t/\0\xff\n\"k", 8};
  std::string binary_value;
  for (int b = 0; b < 256; ++b)
    binary_value.push_back(static_cast<char>(b));
  auto first = client.put("/t/a", "1");
  REQUIRE(first);
  REQUIRE(client.put(binary_key, binary_value));

  auto a = client.get("/t/a");
  REQUIRE(a);
  REQUIRE(a->has_value());
  CHECK((*a)->value == "1");
  CHECK((*a)->mod_revision == *first);
  auto b = client.get(binary_key);
  REQUIRE(b);
  REQUIRE(b->has_value());
  CHECK((*b)->key == binary_key);
  CHECK((*b)->value == binary_value);

  auto range = client.range_prefix("/t/");
  REQUIRE(range);
  REQUIRE(range->kvs.size() == 2);
  CHECK(range->kvs[0].key == binary_key);  // "\0" sorts before "a"
  CHECK(range->kvs[1].key == "/t/a");
  CHECK(range->revision > *first);

  auto removed = client.remove("/t/a");
  REQUIRE(removed);
  CHECK(*removed == 1);
  auto gone = client.get("/t/a");
  REQUIRE(gone);
  CHECK_FALSE(gone->has_value());
  auto again = client.remove("/t/a");
  REQUIRE(again);
  CHECK(*again == 0);
}

// -- leases -------------------------------------------------------------------------------------

TEST_CASE("a lease is granted, kept alive and revoked, and its keys vanish with it") {
  etcd_server etcd;
  etcd_client client{reaching({etcd.endpoint()})};
  auto lease = client.grant_lease(5s);
  REQUIRE(lease);
  CHECK(lease->id != 0);
  CHECK(lease->ttl == 5s);
  REQUIRE(client.put("/l/held", "x", lease->id));

  auto left = client.keep_alive_once(lease->id);
  REQUIRE(left);
  CHECK(*left > 0s);

  CHECK_FALSE(client.revoke_lease(lease->id));
  auto held = client.get("/l/held");
  REQUIRE(held);
  CHECK_FALSE(held->has_value());
  auto after = client.keep_alive_once(lease->id);
  REQUIRE(after);
  CHECK(*after == 0s);
  // Revoking a lease that is gone is no fault: it holds nothing either way.
  CHECK_FALSE(client.revoke_lease(lease->id));
  // etcd's own error comes back with its meaning.
  auto orphan = client.put("/l/orphan", "x", lease->id);
  REQUIRE_FALSE(orphan);
  CHECK(orphan.error().code == errc::not_found);
}

// -- compare-and-set ----------------------------------------------------------------------------

TEST_CASE("compare-and-set creates only what is absent and updates only from the revision read") {
  etcd_server etcd;
  etcd_client client{reaching({etcd.endpoint()})};
  auto created = client.create_if_absent("/c/k", "v1");
  REQUIRE(created);
  CHECK(created->succeeded);

  auto second = client.create_if_absent("/c/k", "v2");
  REQUIRE(second);
  CHECK_FALSE(second->succeeded);
  REQUIRE(second->current);
  CHECK(second->current->value == "v1");
  CHECK(second->current->mod_revision == created->revision);

  auto updated = client.update_if_revision("/c/k", "v3", created->revision);
  REQUIRE(updated);
  CHECK(updated->succeeded);
  CHECK(updated->revision > created->revision);

  // A writer that read before the update loses, and learns what won.
  auto stale = client.update_if_revision("/c/k", "v4", created->revision);
  REQUIRE(stale);
  CHECK_FALSE(stale->succeeded);
  REQUIRE(stale->current);
  CHECK(stale->current->value == "v3");
  CHECK(stale->current->mod_revision == updated->revision);

  // Updating a key that is gone loses too, with nothing current.
  REQUIRE(client.remove("/c/k"));
  auto vanished = client.update_if_revision("/c/k", "v5", updated->revision);
  REQUIRE(vanished);
  CHECK_FALSE(vanished->succeeded);
  CHECK_FALSE(vanished->current);
}

// -- watch --------------------------------------------------------------------------------------

TEST_CASE("a watch streams puts and removals under its prefix in order") {
  etcd_server etcd;
  etcd_client client{reaching({etcd.endpoint()})};
  auto start = client.put("/w-other", "not watched");
  REQUIRE(start);
  // The writes run while the watch streams; from a known revision the watch sees them whether
  // they happen before or after it opened. Catch2 asserts on this thread only.
  bool writes_ok = false;
  std::thread writer{[&] {
    etcd_client own{reaching({etcd.endpoint()})};
    writes_ok = own.put("/w/a", "1") && own.put("/w/b", "2") && own.put("/w-other", "x")
                && own.remove("/w/a");
  }};
  std::vector<etcd_event> seen;
  auto end = client.watch_prefix("/w/", *start + 1, [&](const std::vector<etcd_event>& events,
                                                         int64_t) {
    seen.insert(seen.end(), events.begin(), events.end());
    return seen.size() < 3;
  }, 10s);
  writer.join();
  CHECK(writes_ok);
  REQUIRE(end);
  CHECK(end->why == etcd_watch_end::reason::stopped);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].type == etcd_event::kind::put);
  CHECK(seen[0].kv.key == "/w/a");
  CHECK(seen[0].kv.value == "1");
  CHECK(seen[1].type == etcd_event::kind::put);
  CHECK(seen[1].kv.key == "/w/b");
  CHECK(seen[2].type == etcd_event::kind::remove);
  CHECK(seen[2].kv.key == "/w/a");
  CHECK(seen[0].kv.mod_revision < seen[1].kv.mod_revision);
  CHECK(seen[1].kv.mod_revision < seen[2].kv.mod_revision);
  CHECK(end->next_revision == seen[2].kv.mod_revision + 1);
}

TEST_CASE("a watch sees the removal of a key whose lease expired") {
  etcd_server etcd;
  etcd_client client{reaching({etcd.endpoint()})};
  // 1 s asked; etcd may raise it to its minimum (2 s with default election settings).
  auto lease = client.grant_lease(1s);
  REQUIRE(lease);
  auto put = client.put("/e/short", "lived", lease->id);
  REQUIRE(put);
  auto started = clock_type::now();
  std::vector<etcd_event> seen;
  auto end = client.watch_prefix("/e/", *put + 1, [&](const std::vector<etcd_event>& events,
                                                      int64_t) {
    seen.insert(seen.end(), events.begin(), events.end());
    return false;
  }, 10s);
  REQUIRE(end);
  CHECK(end->why == etcd_watch_end::reason::stopped);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].type == etcd_event::kind::remove);
  CHECK(seen[0].kv.key == "/e/short");
  // Not before the lease's TTL, and not long after it.
  auto took = clock_type::now() - started;
  CHECK(took >= lease->ttl - 200ms);
  CHECK(took < lease->ttl + 2s);
}

TEST_CASE("a watch that finds nothing ends when its duration passes, ready to go on") {
  etcd_server etcd;
  etcd_client client{reaching({etcd.endpoint()})};
  auto put = client.put("/q/x", "1");
  REQUIRE(put);
  auto end = client.watch_prefix("/q/", *put + 1, [](auto&, int64_t) { return true; }, 300ms);
  REQUIRE(end);
  CHECK(end->why == etcd_watch_end::reason::expired);
  CHECK(end->next_revision == *put + 1);
}

TEST_CASE("a watch from a compacted revision ends as compacted, to be read again") {
  etcd_server etcd;
  etcd_client client{reaching({etcd.endpoint()})};
  auto first = client.put("/k/a", "1");
  REQUIRE(first);
  auto last = client.put("/k/a", "2");
  REQUIRE(last);
  REQUIRE(etcd.compact(*last));
  bool called = false;
  auto end = client.watch_prefix("/k/", *first, [&](auto&, int64_t) {
    called = true;
    return true;
  }, 5s);
  REQUIRE(end);
  CHECK(end->why == etcd_watch_end::reason::compacted);
  CHECK(end->compact_revision == *last);
  CHECK_FALSE(called);
}

// -- endpoints ----------------------------------------------------------------------------------

TEST_CASE("an endpoint where nothing listens fails fast, with an error rather than absent") {
  auto opts = reaching({closed_endpoint()});
  opts.call_timeout = 1000ms;
  etcd_counters counters;
  opts.counters = &counters;
  etcd_client client{opts};
  auto started = clock_type::now();
  auto got = client.get("/anything");
  REQUIRE_FALSE(got);
  CHECK(got.error().code == errc::unavailable);
  CHECK(got.error().message.find("connect") != std::string::npos);
  CHECK(clock_type::now() - started < 1000ms);
  CHECK(counters.round_trips == 1);
  CHECK(counters.failures == 1);
}

TEST_CASE("an endpoint that never answers fails within the call's deadline") {
  one_shot_server silent{""};
  auto opts = reaching({silent.url()});
  opts.call_timeout = 300ms;
  etcd_client client{opts};
  auto started = clock_type::now();
  auto got = client.get("/anything");
  REQUIRE_FALSE(got);
  CHECK(got.error().code == errc::unavailable);
  CHECK(clock_type::now() - started < 1000ms);
}

TEST_CASE("a call moves on to the next endpoint when one is down") {
  etcd_server etcd;
  auto opts = reaching({closed_endpoint(), etcd.endpoint()});
  etcd_counters counters;
  opts.counters = &counters;
  etcd_client client{opts};
  REQUIRE(client.put("/f/k", "v"));
  auto got = client.get("/f/k");
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK((*got)->value == "v");
  // The first call tried both; the second went straight to the one that answered.
  CHECK(counters.round_trips == 3);
  CHECK(counters.failures == 1);
}

TEST_CASE("a compare-and-set whose request may have been applied is not sent again") {
  // The silent endpoint read the request: another endpoint must not apply it a second time.
  one_shot_server silent{""};
  etcd_server etcd;
  auto opts = reaching({silent.url(), etcd.endpoint()});
  opts.call_timeout = 300ms;
  etcd_client client{opts};
  auto cas = client.create_if_absent("/once", "v");
  REQUIRE_FALSE(cas);
  CHECK(cas.error().code == errc::unavailable);
  CHECK(cas.error().message.find("may have been applied") != std::string::npos);
  opts.endpoints = {etcd.endpoint()};
  etcd_client direct{opts};
  auto got = direct.get("/once");
  REQUIRE(got);
  CHECK_FALSE(got->has_value());
}

TEST_CASE("endpoints that are not http URLs fail every call with bad_request") {
  etcd_client client{reaching({"https://127.0.0.1:2379"})};
  auto got = client.get("/k");
  REQUIRE_FALSE(got);
  CHECK(got.error().code == errc::bad_request);
  CHECK(got.error().message.find("https://127.0.0.1:2379") != std::string::npos);
}

// -- malformed answers --------------------------------------------------------------------------

TEST_CASE("a malformed gateway answer is an error, never an absent key") {
  for (std::string answer : {parley::test::http_answer("not json"),
                             parley::test::http_answer("{\"kvs\":\"not a list\"}"),
                             parley::test::http_answer(""),
                             parley::test::http_answer("Not Found", 404)}) {
    INFO(answer);
    one_shot_server server{answer};
    etcd_client client{reaching({server.url()})};
    auto got = client.get("/k");
    REQUIRE_FALSE(got);
    CHECK(got.error().code == errc::internal);
  }
}

TEST_CASE("a gateway error in a watch stream or a malformed line ends the watch with an error") {
  std::string stream_error =
    "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"no leader\"}}\n";
  for (std::string line : {stream_error, std::string{"{broken\n"}}) {
    INFO(line);
    one_shot_server server{parley::test::chunked_answer({line}), 0ms};
    etcd_client client{reaching({server.url()})};
    auto end = client.watch_prefix("/w/", 1, [](auto&, int64_t) { return true; }, 2s);
    REQUIRE_FALSE(end);
    CHECK(end.error().code == (line == stream_error ? errc::unavailable : errc::internal));
  }
}
