#include "actors/runtime/registry.hpp"
#include "common/metrics.hpp"
#include "support/test_system.hpp"

#include <catch2/catch.hpp>

#include <atomic>

using namespace parley;
using namespace std::chrono_literals;

namespace {

using linger_atom = caf::atom_constant<caf::atom("linger")>;

struct counter_state {
  int total = 0;
};

// A test entity: sums the integers it receives. On passivate it lingers `linger` before
// quitting, like an entity finishing a durable write.
caf::behavior counter_entity(caf::stateful_actor<counter_state>* self,
                             std::chrono::milliseconds linger) {
  return {
    [self](int n) { return self->state.total += n; },
    [self, linger](passivate_atom) {
      if (linger.count() == 0)
        self->quit();
      else
        self->delayed_send(self, linger, linger_atom::value);
    },
    [self](linger_atom) { self->quit(); },
  };
}

struct fixture {
  test::test_config cfg;
  caf::actor_system sys{cfg};
  std::atomic<int> activations{0};

  caf::actor make_registry(std::chrono::milliseconds linger = 0ms, size_t trim_after = 1024) {
    runtime::registry_options opts;
    opts.idle_passivate = 60s;
    opts.periodic_sweep = false;
    opts.trim_after_passivations = trim_after;
    std::map<std::string, runtime::entity_factory> kinds;
    kinds["counter"] = [this, linger](caf::actor_system& s, const std::string&) {
      ++activations;
      return s.spawn(counter_entity, linger);
    };
    return runtime::spawn_registry(sys, opts, kinds);
  }

  int add(const caf::actor& registry, const std::string& id, int n) {
    caf::scoped_actor self{sys};
    int result = -1;
    self->request(registry, 5s, std::string{"counter"}, id, caf::make_message(n))
      .receive([&](int total) { result = total; },
               [&](const caf::error& err) { FAIL(sys.render(err)); });
    return result;
  }

  uint64_t sweep(const caf::actor& registry, int64_t now_ns) {
    caf::scoped_actor self{sys};
    uint64_t n = 0;
    self->request(registry, 5s, sweep_atom_v, now_ns)
      .receive([&](uint64_t count) { n = count; }, [&](const caf::error&) {});
    return n;
  }

  uint64_t active(const caf::actor& registry) {
    caf::scoped_actor self{sys};
    uint64_t n = 0;
    self->request(registry, 5s, count_atom_v).receive([&](uint64_t c) { n = c; },
                                                     [&](const caf::error&) {});
    return n;
  }
};

int64_t far_future_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           (std::chrono::steady_clock::now() + 1h).time_since_epoch())
    .count();
}

} // namespace

TEST_CASE_METHOD(fixture, "an entity is activated on its first message and keeps its state") {
  auto reg = make_registry();
  CHECK(add(reg, "a", 1) == 1);
  CHECK(add(reg, "a", 2) == 3);
  CHECK(add(reg, "b", 10) == 10);
  CHECK(activations == 2);
  CHECK(active(reg) == 2);
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "an idle entity is passivated and a later message re-activates it") {
  auto reg = make_registry();
  CHECK(add(reg, "a", 5) == 5);
  // Not idle yet at "now".
  CHECK(sweep(reg, 0) == 0);
  CHECK(sweep(reg, far_future_ns()) == 1);
  // Wait until the old activation is gone.
  for (int i = 0; i < 200 && active(reg) != 0; ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(active(reg) == 0);
  // State was in memory only (this test entity has no storage), so it starts over.
  CHECK(add(reg, "a", 1) == 1);
  CHECK(activations == 2);
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "messages for a passivating entity wait for it and reach a fresh activation") {
  auto reg = make_registry(200ms);
  CHECK(add(reg, "a", 5) == 5);
  CHECK(sweep(reg, far_future_ns()) == 1);
  // The old activation lingers for 200 ms; this message must not reach it, nor a second
  // activation running beside it.
  CHECK(add(reg, "a", 1) == 1);
  CHECK(activations == 2);
  CHECK(active(reg) == 1);
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "an unknown entity kind is an error, not a crash") {
  auto reg = make_registry();
  caf::scoped_actor self{sys};
  fault f;
  self->request(reg, 5s, std::string{"nope"}, std::string{"x"}, caf::make_message(1))
    .receive([](int) {}, [&](const caf::error& err) { f = to_fault(err); });
  CHECK(f.code == errc::internal);
  CHECK(f.message.find("nope") != std::string::npos);
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "an entity owned by another node is refused until forwarding exists") {
  runtime::registry_options opts;
  opts.periodic_sweep = false;
  opts.local_node = "n1";
  opts.members = {"n1", "n2", "n3"};
  std::map<std::string, runtime::entity_factory> kinds;
  kinds["counter"] = [](caf::actor_system& s, const std::string&) {
    return s.spawn(counter_entity, 0ms);
  };
  auto reg = runtime::spawn_registry(sys, opts, kinds);
  caf::scoped_actor self{sys};
  int local = 0, remote = 0;
  for (int i = 0; i < 30; ++i)
    self->request(reg, 5s, std::string{"counter"}, std::to_string(i), caf::make_message(1))
      .receive([&](int) { ++local; },
               [&](const caf::error& err) {
                 CHECK(to_fault(err).code == errc::unavailable);
                 ++remote;
               });
  CHECK(local > 0);
  CHECK(remote > 0);
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a wave of passivations hands free memory back once it is over") {
  auto& trims = metrics::global().get_counter(
    "memory_trims_total", "Times free heap memory was handed back to the OS after passivations");
  auto reg = make_registry(0ms, 3);
  for (auto id : {"a", "b"})
    add(reg, id, 1);
  auto before = trims.value();
  CHECK(sweep(reg, far_future_ns()) == 2);
  for (int i = 0; i < 200 && active(reg) != 0; ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(trims.value() == before);  // 2 passivations: below the threshold of 3
  for (auto id : {"c", "d", "e"})
    add(reg, id, 1);
  CHECK(sweep(reg, far_future_ns()) == 3);
  for (int i = 0; i < 200 && active(reg) != 0; ++i)
    std::this_thread::sleep_for(5ms);
  REQUIRE(active(reg) == 0);
  CHECK(trims.value() == before + 1);
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}
