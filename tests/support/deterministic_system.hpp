// An actor system on CAF's deterministic test coordinator, for Catch2 tests: actors run one
// message at a time on the test's thread, only when the test runs them, and time moves only
// when the test advances it (timers of delayed_send and the clock injected into actors alike).
#pragma once

#include "common/clock.hpp"
#include "support/test_system.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

namespace parley::test {

struct deterministic_config : test_config {
  deterministic_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.file-verbosity", caf::atom("quiet"));
  }
};

// What one request answered, once it has: the values, or the error.
template <class... Ts>
struct answer {
  std::optional<std::tuple<Ts...>> value;
  caf::error error;
  bool arrived() const { return value.has_value() || static_cast<bool>(error); }
};

// `Config` derives from deterministic_config (to announce more types, e.g. the cluster's).
template <class Config>
class basic_deterministic_system {
public:
  // -- constructors --

  basic_deterministic_system()
    : sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
      start_(sched.clock().current_time) {
    // A failed REQUIRE leaves actors behind; the exits below end those the test owns, and
    // nothing waits for the rest.
    sys.await_actors_before_shutdown(false);
  }

  ~basic_deterministic_system() { stop(); }

  basic_deterministic_system(const basic_deterministic_system&) = delete;
  basic_deterministic_system& operator=(const basic_deterministic_system&) = delete;

  // -- observers --

  // Unix milliseconds as the actors see them: a fixed start plus the coordinator's elapsed time.
  int64_t now_ms() const {
    return start_ms + std::chrono::duration_cast<std::chrono::milliseconds>(
                        sched.clock().current_time - start_)
                        .count();
  }

  // The clock to inject into actors' contexts.
  clock_fn clock() const {
    return [this] { return now_ms(); };
  }

  // -- modifiers --

  // The actor is sent an exit when the test ends (its own entities go with it).
  template <class Handle>
  Handle own(Handle a) {
    owned_.push_back(caf::actor_cast<caf::actor>(a));
    return a;
  }

  // Sends the owned actors an exit and runs until they are gone. A fixture whose members the
  // actors use (a database, a vector they write to) calls it in its own destructor.
  void stop() {
    for (auto& a : owned_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    owned_.clear();
    run();
  }

  // Runs ready actors until no message is left. Timers do not fire: time stands still.
  size_t run() {
    size_t n = 0;
    while (sched.try_run_once())
      ++n;
    return n;
  }

  // Moves time forward by `d`, one timer at a time: each actor handles a timeout at the time it
  // was due (and sees that time on the injected clock), as on a node, not at the end of `d`.
  void advance(caf::timespan d) {
    auto& clk = sched.clock();
    auto until = clk.current_time + d;
    run();
    while (!clk.schedule().empty() && clk.schedule().begin()->first <= until) {
      auto next = std::max(clk.schedule().begin()->first, clk.current_time);
      sched.advance_time(next - clk.current_time);
      run();
    }
    sched.advance_time(until - clk.current_time);
    run();
  }

  // Sends a request from a one-shot actor and runs the system until nothing is left to do.
  // The answer has arrived() if the request was answered by then.
  template <class... Ts, class Dest, class... Args>
  std::shared_ptr<answer<Ts...>> ask(const Dest& dest, Args... args) {
    auto out = std::make_shared<answer<Ts...>>();
    sys.spawn([out, dest, args...](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, args...)
        .then([out](Ts&... xs) { out->value = std::make_tuple(std::move(xs)...); },
              [out](caf::error& err) { out->error = std::move(err); });
    });
    run();
    return out;
  }

  // -- member variables --

  Config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched;
  static constexpr int64_t start_ms = 1'750'000'000'000;  // 2025-06-15, any fixed time

private:
  caf::actor_clock::time_point start_;
  std::vector<caf::actor> owned_;
};

using deterministic_system = basic_deterministic_system<deterministic_config>;

} // namespace parley::test
