// A worker's lease request for a caller outside the actors (the edge's POST /api/v1/leases),
// which may be a long poll. It asks the lease broker and hands the answer over, and it keeps the
// long poll's promise: a worker that went away is leased nothing. Told that its caller is gone
// (closed_atom), it withdraws the wait from the broker; being the actor that sent the request,
// its withdrawal reaches the broker after the request, never before. Leases that still arrive
// for a caller that is gone, or that can no longer be handed over (the caller answered already,
// say at its own deadline), are revoked: their tasks go back to SCHEDULED at once.
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/tasks/tasks_context.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <functional>

namespace parley::tasks {

// Local to the node that serves the worker's connection.
using lease_poll = caf::typed_actor<
  // The caller went away: nothing may be leased for it any more.
  caf::reacts_to<closed_atom>>;

struct lease_poll_replies {
  // Hands the leases over; false when the caller can no longer take them.
  std::function<bool(const pb::LeaseResponse&)> deliver;
  // The broker refused the request (bad_request) or did not answer in time.
  std::function<void(const caf::error&)> fail;
};

// Asks for `wait` (its wait_id is set here) and waits `within` for the broker's answer: the
// request's wait_ms plus a margin for granting. Exactly one of the replies is called.
lease_poll spawn_lease_poll(caf::actor_system& sys, tasks_context_ptr ctx, pb::LeaseWait wait,
                            caf::timespan within, lease_poll_replies replies);

} // namespace parley::tasks
