// A forwarder stands in for an entity another node owns. The registry hands it out instead of an
// activation (actors/runtime/registry.hpp), so callers send it exactly what they would send the
// entity, typed by the entity's interface `Api`. It writes each message into the payload of an
// envelope for the owner, through this node's peer link, and answers the caller with the owner's
// reply or error, unchanged. One-way messages go one way.
//
// On passivate (idle, or the entity moved) it answers what is in flight, then quits; callers'
// later requests bounce and are re-resolved, like with any passivated entity.
#pragma once

#include "actors/runtime/atoms.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <string>
#include <utility>

namespace parley::cluster {

struct forward_target {
  caf::actor link;  // this node's peer link (cluster/link/peer_link.hpp)
  std::string node; // the owner
  std::string kind;
  std::string id;
  // How long a forwarded request may take before its caller gets `unavailable`.
  std::chrono::milliseconds deadline{5000};
};

namespace detail {

struct forwarder_state {
  forward_target target;
  size_t in_flight = 0;
  bool leaving = false;

  static inline const char* name = "parley.forwarder";
};

using forwarder_actor = caf::stateful_actor<forwarder_state>;

// A request (the caller waits for the answer, even an empty one) or a one-way message: told
// apart by the message itself, since `replies_to<...>::with<void>` and `reacts_to<...>` are one
// type in CAF 0.17.
caf::response_promise forward(forwarder_actor* self, caf::message msg);
void leave(forwarder_actor* self);

template <class... Is, class... Os>
auto forwarding_handler(forwarder_actor* self,
                        caf::typed_mpi<caf::detail::type_list<Is...>, caf::output_tuple<Os...>>*) {
  return [self](Is... xs) { return forward(self, caf::make_message(std::move(xs)...)); };
}

template <class... Sigs>
caf::behavior forwarding_behavior(forwarder_actor* self, caf::detail::type_list<Sigs...>*) {
  // passivate comes from this node's registry and stops here; first, so that an interface that
  // lists it (the entity's own passivation) does not forward it to the owner.
  return {[self](passivate_atom) { leave(self); },
          forwarding_handler(self, static_cast<Sigs*>(nullptr))...};
}

} // namespace detail

// Spawns a forwarder for the entity `target` names, speaking the interface `Api`.
template <class Api>
caf::actor spawn_forwarder(caf::actor_system& sys, forward_target target) {
  return sys.spawn([target = std::move(target)](detail::forwarder_actor* self) mutable {
    self->state.target = std::move(target);
    return detail::forwarding_behavior(self,
                                       static_cast<typename Api::signatures*>(nullptr));
  });
}

} // namespace parley::cluster
