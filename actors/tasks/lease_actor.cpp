#include "actors/tasks/lease_actor.hpp"

#include "actors/runtime/errors.hpp"
#include "actors/tasks/task_shard.hpp"
#include "common/clock.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace parley::tasks {

namespace {

// Its own timer: the lease may have run out.
using lease_actor_impl = lease_actor::extend<caf::reacts_to<wake_atom>>;

struct lease_state {
  task_shard_impl shard;
  lease_terms terms;
  clock_fn clock;
  bool expired = false;

  static inline const char* name = "parley.lease";
};

using lease_pointer = lease_actor_impl::stateful_pointer<lease_state>;

void arm(lease_pointer self) {
  auto left = self->state.terms.expires_at_ms - self->state.clock();
  self->delayed_send(self, std::chrono::milliseconds{std::max<int64_t>(left, 0) + 1}, wake_atom_v);
}

lease_actor_impl::behavior_type lease_behavior(lease_pointer self, task_shard_impl shard,
                                               lease_terms terms, clock_fn clock) {
  self->state.shard = std::move(shard);
  self->state.terms = std::move(terms);
  self->state.clock = std::move(clock);
  arm(self);
  return {
    [self](heartbeat_atom, int64_t lease_ms) -> caf::result<int64_t> {
      auto& st = self->state;
      auto now = self->state.clock();
      if (st.expired || now >= st.terms.expires_at_ms)
        return make_error(errc::conflict, "lease " + st.terms.lease_id + " has expired");
      if (lease_ms > 0) {
        st.terms.expires_at_ms = std::min(now + lease_ms, st.terms.deadline_ms);
        // The earlier wake finds time left and re-arms itself; no second timer needed.
      }
      return st.terms.expires_at_ms;
    },
    [self](wake_atom) {
      auto& st = self->state;
      if (self->state.clock() < st.terms.expires_at_ms)
        return arm(self);
      st.expired = true;
      self->send(st.shard, expire_atom_v, st.terms.task_id, st.terms.lease_id);
      self->quit();
    },
    [self](delete_atom) { self->quit(); },
  };
}

} // namespace

lease_actor spawn_lease_actor(caf::local_actor* shard, lease_terms terms, clock_fn clock) {
  auto handle = caf::actor_cast<task_shard_impl>(shard);
  return caf::actor_cast<lease_actor>(
    shard->spawn<caf::linked>(lease_behavior, std::move(handle), std::move(terms), std::move(clock)));
}

} // namespace parley::tasks
