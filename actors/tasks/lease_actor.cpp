#include "actors/tasks/lease_actor.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "common/clock.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace parley::tasks {

namespace {

struct lease_state {
  caf::actor shard;
  lease_terms terms;
  clock_fn clock;
  bool expired = false;

  static inline const char* name = "parley.lease";
};

using lease_actor = caf::stateful_actor<lease_state>;

void arm(lease_actor* self) {
  auto left = self->state.terms.expires_at_ms - self->state.clock();
  self->delayed_send(self, std::chrono::milliseconds{std::max<int64_t>(left, 0) + 1}, wake_atom_v);
}

} // namespace

caf::actor spawn_lease_actor(caf::event_based_actor* shard, lease_terms terms, clock_fn clock) {
  auto handle = caf::actor_cast<caf::actor>(shard);
  return shard->spawn<caf::linked>([handle, terms, clock](lease_actor* self) -> caf::behavior {
    self->state.shard = handle;
    self->state.terms = terms;
    self->state.clock = clock;
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
  });
}

} // namespace parley::tasks
