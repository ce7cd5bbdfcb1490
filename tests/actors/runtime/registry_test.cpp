// The registry on CAF's deterministic coordinator: activation, ordering and passivation are
// checked message by message, and idle windows pass by advancing the coordinator's clock.
#include "actors/runtime/registry.hpp"
#include "actors/runtime/entity_request.hpp"
#include "common/metrics.hpp"
#include "support/deterministic_system.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace std::chrono_literals;

namespace {

using linger_atom = caf::atom_constant<caf::atom("linger")>;

struct counter_state {
  int total = 0;
  std::vector<int>* seen = nullptr;  // every integer received, in order
};

// A test entity: sums the integers it receives. On passivate it lingers `linger` before
// quitting, like an entity finishing a durable write.
caf::behavior counter_entity(caf::stateful_actor<counter_state>* self,
                             std::chrono::milliseconds linger, std::vector<int>* seen) {
  self->state.seen = seen;
  return {
    [self](int n) {
      self->state.seen->push_back(n);
      return self->state.total += n;
    },
    [self, linger](passivate_atom) {
      if (linger.count() == 0)
        self->quit();
      else
        self->delayed_send(self, linger, linger_atom::value);
    },
    [self](linger_atom) { self->quit(); },
  };
}

// The counter entity's interface as a typed handle: callers that resolved it send directly.
using counter_api = caf::typed_actor<caf::replies_to<int>::with<int>>;

// Sends each of `ns` to counter `id` from one caller, in order, the way services call entities:
// through the caller's channels (seeded with `handle` if valid), re-resolved if the entity was
// passivated before a request reached it. One answer per number.
std::vector<std::shared_ptr<test::answer<int>>> add_direct(caf::actor_system& sys,
                                                           const caf::actor& reg,
                                                           const counter_api& handle,
                                                           const std::string& id,
                                                           std::vector<int> ns) {
  std::vector<std::shared_ptr<test::answer<int>>> results;
  for (size_t i = 0; i < ns.size(); ++i)
    results.push_back(std::make_shared<test::answer<int>>());
  sys.spawn([=](caf::event_based_actor* self) {
    auto channels = std::make_shared<runtime::entity_channels<counter_api>>();
    if (handle) {
      auto& ch = channels->at(id, self->clock().now());
      ch.handle = handle;
      ch.valid_until = self->clock().now() + 1h;
    }
    for (size_t i = 0; i < ns.size(); ++i) {
      auto result = results[i];
      runtime::request_entity<counter_api>(
        self, *channels, runtime::entity_address{reg, "counter", id}, 5s,
        [result, channels](int total) { result->value = std::make_tuple(total); },
        [result, channels](caf::error& err) { result->error = err; }, ns[i]);
    }
  });
  return results;
}

std::shared_ptr<test::answer<int>> add_direct(caf::actor_system& sys, const caf::actor& reg,
                                              const counter_api& handle, const std::string& id,
                                              int n) {
  return add_direct(sys, reg, handle, id, std::vector<int>{n}).front();
}

struct fixture : test::deterministic_system {
  int activations = 0;
  std::vector<int> seen;

  ~fixture() { stop(); }

  caf::actor make_registry(std::chrono::milliseconds linger = 0ms, size_t trim_after = 1024,
                           bool periodic_sweep = false) {
    runtime::registry_options opts;
    opts.idle_passivate = 60s;
    opts.periodic_sweep = periodic_sweep;
    opts.trim_after_passivations = trim_after;
    std::map<std::string, runtime::entity_factory> kinds;
    kinds["counter"] = [this, linger](caf::actor_system& s, const std::string&) {
      ++activations;
      return s.spawn(counter_entity, linger, &seen);
    };
    return own(runtime::spawn_registry(sys, opts, kinds));
  }

  // Sends `n` to entity `id` and runs the system; the answer, if it came.
  std::shared_ptr<test::answer<int>> add(const caf::actor& registry, const std::string& id, int n) {
    auto a = add_direct(sys, registry, counter_api{}, id, n);
    run();
    return a;
  }

  int total(const caf::actor& registry, const std::string& id, int n) {
    auto a = add(registry, id, n);
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }

  uint64_t active(const caf::actor& registry) {
    auto a = ask<uint64_t>(registry, count_atom_v);
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }

  uint64_t sweep(const caf::actor& registry, caf::timespan from_now) {
    auto at = std::chrono::duration_cast<std::chrono::nanoseconds>(
      (sched.clock().current_time + from_now).time_since_epoch());
    auto a = ask<uint64_t>(registry, sweep_atom_v, static_cast<int64_t>(at.count()));
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "an entity is activated on its first message and keeps its state") {
  auto reg = make_registry();
  CHECK(activations == 0);
  CHECK(total(reg, "a", 1) == 1);
  CHECK(activations == 1);
  CHECK(total(reg, "a", 2) == 3);
  CHECK(total(reg, "b", 10) == 10);
  CHECK(activations == 2);
  CHECK(active(reg) == 2);
}

TEST_CASE_METHOD(fixture, "messages to one entity reach it in the order they were sent") {
  auto reg = make_registry();
  // One sender, five messages, none handled before the last is sent.
  add_direct(sys, reg, counter_api{}, "a", {1, 2, 3, 4, 5});
  run();
  CHECK(seen == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(activations == 1);
}

TEST_CASE_METHOD(fixture, "an entity idle for idle_passivate is passivated by the periodic sweep") {
  auto reg = make_registry(0ms, 1024, true);
  CHECK(total(reg, "a", 5) == 5);
  // The registry sweeps every idle_passivate / 4 = 15 s; after 45 s "a" is not idle enough.
  for (int i = 0; i < 3; ++i)
    advance(15s);
  CHECK(active(reg) == 1);
  advance(15s);  // 60 s without a message
  CHECK(active(reg) == 0);
  // State was in memory only (this test entity has no storage), so it starts over.
  CHECK(total(reg, "a", 1) == 1);
  CHECK(activations == 2);
}

TEST_CASE_METHOD(fixture, "traffic keeps an entity active: its idle window starts at its last message") {
  auto reg = make_registry(0ms, 1024, true);
  CHECK(total(reg, "a", 1) == 1);
  for (int i = 0; i < 3; ++i)
    advance(15s);
  CHECK(total(reg, "a", 1) == 2);  // at 45 s
  for (int i = 0; i < 4; ++i)
    advance(15s);  // 105 s: 60 s since the last message, sweeps at 60, 75, 90 found it busy
  CHECK(active(reg) == 0);
  CHECK(activations == 1);
}

TEST_CASE_METHOD(fixture, "an explicit sweep passivates only entities idle before its time") {
  auto reg = make_registry();
  CHECK(total(reg, "a", 5) == 5);
  CHECK(sweep(reg, 59s) == 0);
  CHECK(active(reg) == 1);
  CHECK(sweep(reg, 60s) == 1);
  CHECK(active(reg) == 0);
}

TEST_CASE_METHOD(fixture, "messages for a passivating entity wait for it and reach a fresh activation") {
  auto reg = make_registry(200ms);
  CHECK(total(reg, "a", 5) == 5);
  CHECK(sweep(reg, 1h) == 1);
  // The old activation lingers for 200 ms of coordinator time, which does not pass by itself:
  // the messages wait in the registry, neither answered by the old activation nor by a second
  // one beside it.
  auto first = add(reg, "a", 1);
  auto second = add(reg, "a", 2);
  CHECK_FALSE(first->arrived());
  CHECK_FALSE(second->arrived());
  CHECK(activations == 1);
  CHECK(seen == std::vector<int>{5});
  advance(200ms);
  REQUIRE(first->value);
  REQUIRE(second->value);
  CHECK(std::get<0>(*first->value) == 1);  // a fresh activation: its state starts over
  CHECK(std::get<0>(*second->value) == 3);
  CHECK(seen == std::vector<int>{5, 1, 2});
  CHECK(activations == 2);
  CHECK(active(reg) == 1);
}

TEST_CASE_METHOD(fixture, "an unknown entity kind is an error, not a crash") {
  auto reg = make_registry();
  auto a = ask<caf::actor, caf::timespan>(reg, resolve_atom_v, std::string{"nope"},
                                          std::string{"x"});
  REQUIRE(a->arrived());
  auto f = to_fault(a->error);
  CHECK(f.code == errc::internal);
  CHECK(f.message.find("nope") != std::string::npos);
}

namespace {

// Placement a test can change: ids listed in `owners` live on that node ("" = no live owner);
// every other id lives here.
struct test_placement final : runtime::placement_policy {
  std::map<std::string, std::string> owners;

  runtime::entity_location locate(std::string_view, std::string_view id) const override {
    auto it = owners.find(std::string{id});
    if (it == owners.end())
      return {};
    if (it->second.empty())
      return {runtime::entity_location::where::unavailable, "n9"};
    return {runtime::entity_location::where::remote, it->second};
  }
};

// A forwarder stand-in: answers every integer with -1000 - n, so a test sees which one answered.
caf::behavior fake_forwarder(caf::event_based_actor* self) {
  return {
    [](int n) { return -1000 - n; },
    [self](passivate_atom) { self->quit(); },
  };
}

// A registry of counters on node "n1" placed by `placement`, with fake forwarders to the others.
caf::actor placed_registry(fixture& f, std::shared_ptr<test_placement> placement) {
  runtime::registry_options opts;
  opts.periodic_sweep = false;
  opts.local_node = "n1";
  opts.placement = std::move(placement);
  opts.remote_kinds["counter"] = [](caf::actor_system& s, const std::string&,
                                    const std::string&) { return s.spawn(fake_forwarder); };
  std::map<std::string, runtime::entity_factory> kinds;
  kinds["counter"] = [&f](caf::actor_system& s, const std::string&) {
    ++f.activations;
    return s.spawn(counter_entity, 0ms, &f.seen);
  };
  return f.own(runtime::spawn_registry(f.sys, opts, kinds));
}

} // namespace

TEST_CASE_METHOD(fixture, "placement decides: local activation, forwarder to the owner, or unavailable") {
  auto placement = std::make_shared<test_placement>();
  placement->owners = {{"far", "n2"}, {"lost", ""}};
  runtime::registry_options opts;
  opts.periodic_sweep = false;
  opts.local_node = "n1";
  opts.placement = placement;
  std::vector<std::string> forwarded;
  opts.remote_kinds["counter"] = [&forwarded](caf::actor_system& s, const std::string& node,
                                              const std::string& id) {
    forwarded.push_back(node + "/" + id);
    return s.spawn(fake_forwarder);
  };
  std::map<std::string, runtime::entity_factory> kinds;
  kinds["counter"] = [this](caf::actor_system& s, const std::string&) {
    ++activations;
    return s.spawn(counter_entity, 0ms, &seen);
  };
  auto reg = own(runtime::spawn_registry(sys, opts, kinds));

  CHECK(total(reg, "near", 5) == 5);
  CHECK(total(reg, "far", 5) == -1005);
  CHECK(forwarded == std::vector<std::string>{"n2/far"});
  CHECK(activations == 1);
  CHECK(active(reg) == 1);  // forwarders are not counted as active entities

  auto lost = add(reg, "lost", 1);
  REQUIRE(lost->arrived());
  CHECK(to_fault(lost->error).code == errc::unavailable);

  auto where = ask<std::string, bool>(reg, locate_atom_v, std::string{"counter"},
                                      std::string{"far"});
  REQUIRE(where->value);
  CHECK(std::get<0>(*where->value) == "n2");
  CHECK_FALSE(std::get<1>(*where->value));
  where = ask<std::string, bool>(reg, locate_atom_v, std::string{"counter"}, std::string{"near"});
  REQUIRE(where->value);
  CHECK(std::get<0>(*where->value) == "n1");
  CHECK(std::get<1>(*where->value));
}

TEST_CASE_METHOD(fixture, "peek hands out an active entity's handle and never activates one") {
  auto placement = std::make_shared<test_placement>();
  placement->owners = {{"far", "n2"}};
  auto reg = placed_registry(*this, placement);
  auto peek = [&](const std::string& id) {
    auto a = ask<std::string, caf::actor>(reg, peek_atom_v, std::string{"counter"}, id);
    REQUIRE(a->value);
    return *a->value;
  };

  auto [owner, handle] = peek("idle");
  CHECK(owner == "n1");
  CHECK_FALSE(handle);
  CHECK(activations == 0);

  CHECK(total(reg, "busy", 7) == 7);
  auto [busy_owner, busy] = peek("busy");
  CHECK(busy_owner == "n1");
  REQUIRE(busy);
  auto direct = ask<int>(busy, 1);
  REQUIRE(direct->value);
  CHECK(std::get<0>(*direct->value) == 8);  // the same activation, its state kept

  // A forwarder is not an activation here: its owner is named, no handle.
  CHECK(total(reg, "far", 1) == -1001);
  auto [far_owner, far] = peek("far");
  CHECK(far_owner == "n2");
  CHECK_FALSE(far);

  // Peeking is not use: the entity still passivates when idle, and then has no handle.
  CHECK(sweep(reg, 301s) == 2);
  run();
  CHECK_FALSE(std::get<1>(peek("busy")));
  CHECK(activations == 1);

  auto unknown = ask<std::string, caf::actor>(reg, peek_atom_v, std::string{"nope"},
                                              std::string{"x"});
  REQUIRE(unknown->arrived());
  CHECK(to_fault(unknown->error).code == errc::bad_request);
}

TEST_CASE_METHOD(fixture, "a rebalance moves only what placement moved, and callers follow") {
  auto placement = std::make_shared<test_placement>();
  auto reg = placed_registry(*this, placement);
  CHECK(total(reg, "stays", 1) == 1);
  CHECK(total(reg, "leaves", 1) == 1);

  placement->owners = {{"leaves", "n2"}};  // n2 joined and took it
  auto moved = ask<uint64_t>(reg, rebalance_atom_v);
  REQUIRE(moved->value);
  CHECK(std::get<0>(*moved->value) == 1);
  CHECK(total(reg, "stays", 1) == 2);        // the same activation
  CHECK(total(reg, "leaves", 2) == -1002);   // now forwarded

  placement->owners.clear();  // n2 left again: the entity comes back here, loading afresh
  moved = ask<uint64_t>(reg, rebalance_atom_v);
  REQUIRE(moved->value);
  CHECK(std::get<0>(*moved->value) == 1);
  CHECK(total(reg, "leaves", 3) == 3);
  CHECK(activations == 3);
}

TEST_CASE_METHOD(fixture, "a wave of passivations hands free memory back once it is over") {
  auto& trims = metrics::global().get_counter(
    "memory_trims_total", "Times free heap memory was handed back to the OS after passivations");
  auto reg = make_registry(0ms, 3);
  for (auto id : {"a", "b"})
    total(reg, id, 1);
  auto before = trims.value();
  CHECK(sweep(reg, 1h) == 2);
  REQUIRE(active(reg) == 0);
  CHECK(trims.value() == before);  // 2 passivations: below the threshold of 3
  for (auto id : {"c", "d", "e"})
    total(reg, id, 1);
  CHECK(sweep(reg, 1h) == 3);
  REQUIRE(active(reg) == 0);
  CHECK(trims.value() == before + 1);
}


TEST_CASE_METHOD(fixture, "resolve answers the entity's handle, and callers send to it directly") {
  auto reg = make_registry();
  auto a = ask<caf::actor, caf::timespan>(reg, resolve_atom_v, std::string{"counter"},
                                          std::string{"a"});
  REQUIRE(a->value);
  auto handle = caf::actor_cast<counter_api>(std::get<0>(*a->value));
  CHECK(std::get<1>(*a->value) == 15s);  // a quarter of idle_passivate
  CHECK(activations == 1);
  auto direct = add_direct(sys, reg, handle, "a", 4);
  run();
  REQUIRE(direct->value);
  CHECK(std::get<0>(*direct->value) == 4);
  CHECK(total(reg, "a", 1) == 5);  // the same activation answers both paths
  CHECK(activations == 1);
}

TEST_CASE_METHOD(fixture, "request_entity resolves first when the caller holds no handle") {
  auto reg = make_registry();
  auto first = add_direct(sys, reg, counter_api{}, "a", 2);
  auto second = add_direct(sys, reg, counter_api{}, "a", 3);
  run();
  REQUIRE(first->value);
  REQUIRE(second->value);
  CHECK(std::get<0>(*second->value) == 5);
  CHECK(activations == 1);
}

TEST_CASE_METHOD(fixture, "a handle to a passivated entity is re-resolved: the request is not lost") {
  auto reg = make_registry();
  auto a = ask<caf::actor, caf::timespan>(reg, resolve_atom_v, std::string{"counter"},
                                          std::string{"a"});
  REQUIRE(a->value);
  auto stale = caf::actor_cast<counter_api>(std::get<0>(*a->value));
  CHECK(sweep(reg, 1h) == 1);
  REQUIRE(active(reg) == 0);
  auto late = add_direct(sys, reg, stale, "a", 7);
  run();
  REQUIRE(late->value);
  CHECK(std::get<0>(*late->value) == 7);  // answered by a fresh activation
  CHECK(activations == 2);
  CHECK(seen == std::vector<int>{7});
}

TEST_CASE_METHOD(fixture, "resolving a passivating entity waits for its next activation") {
  auto reg = make_registry(200ms);
  CHECK(total(reg, "a", 5) == 5);
  CHECK(sweep(reg, 1h) == 1);
  auto a = ask<caf::actor, caf::timespan>(reg, resolve_atom_v, std::string{"counter"},
                                          std::string{"a"});
  CHECK_FALSE(a->arrived());  // never the leaving activation
  advance(200ms);
  REQUIRE(a->value);
  CHECK(activations == 2);
  auto direct = add_direct(sys, reg, caf::actor_cast<counter_api>(std::get<0>(*a->value)), "a", 1);
  run();
  REQUIRE(direct->value);
  CHECK(std::get<0>(*direct->value) == 1);
}

TEST_CASE_METHOD(fixture, "resolving counts as use: an entity its callers keep resolving stays active") {
  auto reg = make_registry(0ms, 1024, true);
  for (int i = 0; i < 8; ++i) {  // 8 x 15 s = 2 minutes, resolved every 15 s
    auto a = ask<caf::actor, caf::timespan>(reg, resolve_atom_v, std::string{"counter"},
                                            std::string{"a"});
    REQUIRE(a->value);
    advance(15s);
  }
  CHECK(active(reg) == 1);
  CHECK(activations == 1);
}

TEST_CASE_METHOD(fixture, "one caller's requests to an entity keep their order across a resolve") {
  auto reg = make_registry();
  auto answers = add_direct(sys, reg, counter_api{}, "a", {1, 2, 3});
  run();
  for (auto& a : answers)
    REQUIRE(a->value);
  CHECK(seen == std::vector<int>{1, 2, 3});
  CHECK(std::get<0>(*answers.back()->value) == 6);
  CHECK(activations == 1);
}

TEST_CASE_METHOD(fixture, "one caller's requests keep their order when they bounce off a passivated entity") {
  auto reg = make_registry();
  auto a = ask<caf::actor, caf::timespan>(reg, resolve_atom_v, std::string{"counter"},
                                          std::string{"a"});
  REQUIRE(a->value);
  auto stale = caf::actor_cast<counter_api>(std::get<0>(*a->value));
  CHECK(sweep(reg, 1h) == 1);
  auto answers = add_direct(sys, reg, stale, "a", {1, 2, 3, 4});
  run();
  for (auto& answer : answers)
    REQUIRE(answer->value);
  CHECK(seen == std::vector<int>{1, 2, 3, 4});
  CHECK(activations == 2);
}
