// The peer link between two actor systems in one process, each with its own middleman on a
// loopback port, as two nodes would be: forwarded requests, replies and errors come back
// unchanged, one-way messages arrive, and a peer that goes away fails what is pending on it at
// once instead of letting it hang.
#include "actors/chat/chat_api.hpp"
#include "actors/runtime/entity_request.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/registry.hpp"
#include "cluster/link/forwarder.hpp"
#include "cluster/link/link_types.hpp"
#include "cluster/link/message_bytes.hpp"
#include "cluster/link/peer_link.hpp"
#include "cluster/link/port_probe.hpp"
#include "support/eventually.hpp"
#include "support/test_system.hpp"
#include "support/wire_round_trip.hpp"

#include <caf/io/middleman.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <thread>

using namespace parley;
using namespace std::chrono_literals;

namespace {

// The test entity's interface: only types every node announces.
using echo_api = caf::typed_actor<
  caf::replies_to<summary_atom, std::string>::with<pb::ConversationSummary>,
  caf::reacts_to<typing_atom, pb::TypingUpdate>,
  caf::replies_to<delete_atom, std::string>::with<void>,
  caf::replies_to<count_atom>::with<uint64_t>>;

struct echo_state {
  std::atomic<int>* typing_seen = nullptr;
  std::vector<caf::response_promise> held;  // "hang" requests: never answered
};

// Answers a summary with its id as title; "missing" is not_found; "hang" is never answered.
caf::behavior echo_entity(caf::stateful_actor<echo_state>* self, std::string id,
                          std::atomic<int>* typing_seen) {
  self->state.typing_seen = typing_seen;
  return {
    [self, id](summary_atom, const std::string& what) -> caf::result<pb::ConversationSummary> {
      if (what == "missing")
        return make_error(errc::not_found, "no " + what + " in " + id);
      if (what == "hang") {
        self->state.held.push_back(self->make_response_promise());
        return caf::delegated<pb::ConversationSummary>{};
      }
      pb::ConversationSummary s;
      s.set_conversation_id(id + "/" + what);
      return s;
    },
    [self](typing_atom, const pb::TypingUpdate&) { ++*self->state.typing_seen; },
    [](delete_atom, const std::string& what) -> caf::result<void> {
      if (what == "missing")
        return make_error(errc::not_found, "nothing to delete");
      return caf::unit;
    },
    [](count_atom) { return uint64_t{42}; },
    [self](passivate_atom) { self->quit(); },
  };
}

struct node_config : test::test_config {
  node_config() {
    load<caf::io::middleman>();
    cluster::add_message_types(*this);
    set("middleman.heartbeat-interval", caf::timespan{200ms});
    set("middleman.connection-timeout", caf::timespan{2s});
  }
};

// Places ids starting with "b-" on node b, the rest on node a.
struct by_prefix final : runtime::placement_policy {
  std::string self;
  explicit by_prefix(std::string self) : self(std::move(self)) {}
  runtime::entity_location locate(std::string_view, std::string_view id) const override {
    std::string owner = id.substr(0, 2) == "b-" ? "b" : "a";
    if (owner == self)
      return {};
    return {runtime::entity_location::where::remote, owner};
  }
};

// One node: actor system, registry of "echo" entities, peer link published on loopback.
struct test_node {
  node_config cfg;
  caf::actor_system sys{cfg};
  std::string id;
  std::atomic<int> typing_seen{0};
  caf::actor registry;
  caf::actor link;
  uint16_t port = 0;

  explicit test_node(std::string name, std::chrono::milliseconds deadline = 5000ms)
    : id(std::move(name)) {
    auto placement = std::make_shared<by_prefix>(id);
    // The link is spawned first: the forwarders need its handle, the link the registry's.
    caf::actor link_handle;
    runtime::registry_options ropts;
    ropts.local_node = id;
    ropts.placement = placement;
    ropts.periodic_sweep = false;
    auto* self_link = &link;
    ropts.remote_kinds["echo"] = [self_link, deadline](caf::actor_system& s,
                                                       const std::string& node,
                                                       const std::string& entity) {
      return cluster::spawn_forwarder<echo_api>(s, {*self_link, node, "echo", entity, deadline});
    };
    std::map<std::string, runtime::entity_factory> kinds;
    kinds["echo"] = [this](caf::actor_system& s, const std::string& entity) {
      return s.spawn(echo_entity, entity, &typing_seen);
    };
    registry = runtime::spawn_registry(sys, ropts, kinds);
    cluster::peer_link_options lopts;
    lopts.node_id = id;
    lopts.targets.registry = registry;
    lopts.targets.placement = placement;
    lopts.targets.entity_kinds["echo"] = cluster::invoker_for<echo_api>();
    lopts.reconnect_delay = 100ms;
    link = cluster::spawn_peer_link(sys, lopts);
    auto published = cluster::publish_gateway(sys, link, "127.0.0.1", 0);
    REQUIRE(published);
    port = *published;
  }

  ~test_node() {
    caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port); }

  uint64_t linked() {
    caf::scoped_actor self{sys};
    uint64_t n = 0;
    self->request(link, 5s, count_atom_v).receive([&](uint64_t x) { n = x; },
                                                  [](caf::error&) {});
    return n;
  }
};

void introduce(test_node& x, test_node& y) {
  std::vector<std::string> nodes{x.id, y.id};
  std::vector<std::string> addresses{x.address(), y.address()};
  caf::anon_send(x.link, members_changed_atom_v, nodes, addresses);
  caf::anon_send(y.link, members_changed_atom_v, nodes, addresses);
  REQUIRE(test::eventually([&] { return x.linked() == 1 && y.linked() == 1; }));
}

// Asks entity `id` through node `at`'s registry, the way services do.
struct outcome {
  std::optional<pb::ConversationSummary> value;
  std::optional<fault> error;
  std::chrono::milliseconds took{0};
};

outcome summary(test_node& at, const std::string& id, const std::string& what,
                caf::timespan within = 10s) {
  caf::scoped_actor self{at.sys};
  outcome out;
  auto start = std::chrono::steady_clock::now();
  self->request(at.registry, within, resolve_atom_v, std::string{"echo"}, id)
    .receive(
      [&](caf::actor& handle, caf::timespan) {
        self->request(caf::actor_cast<echo_api>(handle), within, summary_atom_v, what)
          .receive([&](pb::ConversationSummary& s) { out.value = s; },
                   [&](caf::error& err) { out.error = to_fault(err); });
      },
      [&](caf::error& err) { out.error = to_fault(err); });
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - start);
  return out;
}

} // namespace

TEST_CASE("host:port splits, and a closed port is told apart from an open one") {
  CHECK(cluster::split_host_port("127.0.0.1:9080") == std::pair<std::string, uint16_t>{"127.0.0.1", 9080});
  CHECK(cluster::split_host_port("nohost").second == 0);
  CHECK(cluster::split_host_port("h:99999").second == 0);
  CHECK(cluster::split_host_port("h:12x").second == 0);
  test_node a{"a"};
  CHECK(cluster::port_answers("127.0.0.1", a.port, 1s));
  // Nobody listens on port 1 here: refused at once.
  CHECK_FALSE(cluster::port_answers("127.0.0.1", 1, 1s));
}

TEST_CASE("a request for another node's entity is answered by the owner, unchanged") {
  test_node a{"a"}, b{"b"};
  introduce(a, b);

  auto local = summary(a, "a-1", "x");
  REQUIRE(local.value);
  CHECK(local.value->conversation_id() == "a-1/x");

  auto remote = summary(a, "b-1", "x");  // owned by b: forwarded
  REQUIRE(remote.value);
  CHECK(remote.value->conversation_id() == "b-1/x");
  auto back = summary(b, "a-2", "y");    // and the other way
  REQUIRE(back.value);
  CHECK(back.value->conversation_id() == "a-2/y");

  auto missing = summary(a, "b-1", "missing");  // the owner's error keeps its code and text
  REQUIRE(missing.error);
  CHECK(missing.error->code == errc::not_found);
  CHECK(missing.error->message == "no missing in b-1");

  // One-way messages of the interface go one way.
  caf::scoped_actor self{a.sys};
  caf::actor handle;
  self->request(a.registry, 5s, resolve_atom_v, std::string{"echo"}, std::string{"b-2"})
    .receive([&](caf::actor& h, caf::timespan) { handle = h; }, [](caf::error&) {});
  REQUIRE(handle);
  self->send(caf::actor_cast<echo_api>(handle), typing_atom_v, pb::TypingUpdate{});
  CHECK(test::eventually([&] { return b.typing_seen.load() == 1; }));
  CHECK(a.typing_seen.load() == 0);

  // A request with an empty reply is still a request: the caller hears when it is done.
  bool deleted = false;
  std::optional<fault> not_deleted;
  auto remote_entity = caf::actor_cast<echo_api>(handle);
  self->request(remote_entity, 5s, delete_atom_v, std::string{"x"})
    .receive([&] { deleted = true; }, [&](caf::error& err) { not_deleted = to_fault(err); });
  CHECK(deleted);
  CHECK_FALSE(not_deleted);
  self->request(remote_entity, 5s, delete_atom_v, std::string{"missing"})
    .receive([&] { deleted = false; }, [&](caf::error& err) { not_deleted = to_fault(err); });
  REQUIRE(not_deleted);
  CHECK(not_deleted->code == errc::not_found);
}

TEST_CASE("a forwarded request that the owner does not answer in time fails unavailable") {
  test_node a{"a", 300ms}, b{"b"};
  introduce(a, b);
  auto hung = summary(a, "b-1", "hang");
  REQUIRE(hung.error);
  CHECK(hung.error->code == errc::unavailable);
  CHECK(hung.took < 3s);
}

TEST_CASE("requests pending on a peer fail at once when its node goes away") {
  test_node a{"a"};  // 5 s deadline: the failure must come from the link, not the deadline
  std::optional<outcome> hung;
  std::thread asker;
  {
    test_node b{"b"};
    introduce(a, b);
    asker = std::thread{[&] { hung = summary(a, "b-1", "hang"); }};
    // Once b has the entity, b goes away (its actor system shuts down with this scope).
    REQUIRE(test::eventually([&] {
      caf::scoped_actor self{b.sys};
      bool held = false;
      self->request(b.registry, 1s, count_atom_v).receive([&](uint64_t n) { held = n == 1; },
                                                           [](caf::error&) {});
      return held;
    }));
  }
  asker.join();
  REQUIRE(hung);
  CHECK(hung->took < 4s);
  REQUIRE(hung->error);
  CHECK(hung->error->code == errc::unavailable);
  CHECK(test::eventually([&] { return a.linked() == 0; }));
  // With no link, a request for b's entity is unavailable at once.
  auto after = summary(a, "b-3", "x");
  REQUIRE(after.error);
  CHECK(after.error->code == errc::unavailable);
  CHECK(after.took < 1s);
}

TEST_CASE("a member that leaves the member list is dropped even while its link is up") {
  test_node a{"a"}, b{"b"};
  introduce(a, b);
  std::vector<std::string> only_a{"a"};
  std::vector<std::string> address{a.address()};
  caf::anon_send(a.link, members_changed_atom_v, only_a, address);
  CHECK(test::eventually([&] { return a.linked() == 0; }));
  auto after = summary(a, "b-1", "x");
  REQUIRE(after.error);
  CHECK(after.error->code == errc::unavailable);
}

TEST_CASE("a peer's request for an entity this node does not own is refused, not forwarded on") {
  test_node a{"a"}, b{"b"};
  introduce(a, b);
  // Ask b's link directly for "a-1", which a owns: b must not serve it nor pass it on.
  caf::scoped_actor self{a.sys};
  auto payload = cluster::message_to_bytes(a.sys, caf::make_message(summary_atom_v, std::string{"x"}));
  REQUIRE(payload);
  std::optional<fault> refused;
  self->request(a.link, 5s, forward_atom_v, std::string{"b"}, std::string{"echo"},
                std::string{"a-1"}, int64_t{2000}, *payload)
    .receive([&](std::string&) {}, [&](caf::error& err) { refused = to_fault(err); });
  REQUIRE(refused);
  CHECK(refused->code == errc::unavailable);
}

TEST_CASE("the envelope round-trips through CAF's serializer, as the middleman sends it") {
  node_config cfg;
  caf::actor_system sys{cfg};
  pb::Envelope env;
  test::check_round_trip(sys, env);
  env.set_kind(pb::Envelope::REQUEST);
  env.set_correlation(7);
  env.set_deadline_ms(250);
  env.set_from_node("a");
  env.set_target_kind("conv");
  env.set_target_id("c-1");
  env.set_payload(std::string{"\0\x01\xff", 3});
  test::check_round_trip(sys, env);
  test::check_interface<cluster::gateway_api>(sys);
}

TEST_CASE("message and error bytes read back, and garbage is an error, not an empty message") {
  node_config cfg;
  caf::actor_system sys{cfg};
  pb::ConversationSummary s;
  s.set_conversation_id("c-1");
  auto bytes = cluster::message_to_bytes(sys, caf::make_message(summary_atom_v, s));
  REQUIRE(bytes);
  auto back = cluster::message_from_bytes(sys, *bytes);
  REQUIRE(back);
  REQUIRE(back->match_elements<caf::atom_value, pb::ConversationSummary>());
  CHECK(back->get_as<pb::ConversationSummary>(1).conversation_id() == "c-1");
  CHECK_FALSE(cluster::message_from_bytes(sys, "garbage"));
  CHECK_FALSE(cluster::message_from_bytes(sys, *bytes + "x"));  // trailing bytes

  auto err = to_fault(cluster::error_from_bytes(
    sys, cluster::error_to_bytes(sys, make_error(errc::conflict, "seq taken"))));
  CHECK(err.code == errc::conflict);
  CHECK(err.message == "seq taken");
  CHECK(to_fault(cluster::error_from_bytes(sys, "garbage")).code == errc::internal);
}
