// The deadlines of one caller's requests that all share one timeout, kept by the caller rather
// than by CAF's clock. CAF 0.17 registers every `request(dest, timeout, ...)` in its clock: the
// clock's mutex, two multimap nodes, and a wake-up of the clock's thread, then the same again to
// cancel it when the answer comes. For a connection that sends a chat message per frame this was
// a measurable share of each message (docs/benchmarks.md, Chat); here a call costs one map node,
// and the caller arms one timer for the oldest call instead of one per call.
//
// Exactly one outcome per call: the answer (when `close` says the call was still open) or the
// expiry, never both. A caller that keeps its deadlines here sends its requests without a CAF
// timeout (runtime::request_entity_unbounded), so an answer that never comes costs CAF's pending
// response handler until the caller ends; answers are never dropped by the callee in this
// project, so that is the rare case of a callee that died mid-request.
//
// Lives in one actor's state and is only touched on its thread.
#pragma once

#include <caf/actor_clock.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

namespace parley::runtime {

class call_deadlines {
public:
  using time_point = caf::actor_clock::time_point;
  using duration = caf::actor_clock::duration_type;

  explicit call_deadlines(duration timeout) : timeout_(timeout) {}

  // Opens a call made at `now`; `on_expiry` runs from expire() if it is still open when its
  // deadline passes. Returns the call's ticket.
  uint64_t open(time_point now, std::function<void()> on_expiry) {
    auto ticket = ++tickets_;
    // Tickets grow and every call has the same timeout: ticket order is deadline order.
    calls_.emplace_hint(calls_.end(), ticket, call{now + timeout_, std::move(on_expiry)});
    return ticket;
  }

  // Closes a call as answered: true if it was open (the answer counts), false if it expired
  // already (the answer is late and must be dropped).
  bool close(uint64_t ticket) { return calls_.erase(ticket) > 0; }

  // Runs the expiry of every call whose deadline is at or before `now`, oldest first. Returns
  // the next deadline, if a call is still open.
  std::optional<time_point> expire(time_point now) {
    while (!calls_.empty() && calls_.begin()->second.deadline <= now) {
      auto expired = std::move(calls_.begin()->second.on_expiry);
      calls_.erase(calls_.begin());
      expired();  // may open new calls: they are due later than `now`
    }
    return next_deadline();
  }

  std::optional<time_point> next_deadline() const {
    if (calls_.empty())
      return std::nullopt;
    return calls_.begin()->second.deadline;
  }

  size_t open_calls() const { return calls_.size(); }

  // Whether the caller's timer for the oldest deadline is set (the caller keeps one at most).
  bool armed = false;

private:
  struct call {
    time_point deadline;
    std::function<void()> on_expiry;
  };

  duration timeout_;
  uint64_t tickets_ = 0;
  std::map<uint64_t, call> calls_;
};

namespace detail {

template <class Gate, class F, class... Ts>
auto gated(Gate gate, F f, caf::detail::type_list<Ts...>) {
  return [gate = std::move(gate), f = std::move(f)](Ts... xs) mutable {
    if (gate())
      f(std::forward<Ts>(xs)...);
  };
}

} // namespace detail

// `f` with the same parameter types (as CAF's typed response handlers need them), called only
// when `gate()` says yes, e.g. when call_deadlines::close finds the call still open.
template <class Gate, class F>
auto gated(Gate gate, F f) {
  using args = typename caf::detail::get_callable_trait<F>::arg_types;
  return detail::gated(std::move(gate), std::move(f), args{});
}

} // namespace parley::runtime
