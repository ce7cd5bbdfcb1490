// Asking an actor from outside any actor: an HTTP handler on an io thread, a test, a tool. A
// short-lived actor sends the request with a deadline, runs exactly one of the callbacks (on an
// actor thread) and quits. Nothing but typed request values travels in the message: the
// callbacks stay in the asking actor, so the request can cross nodes.
#pragma once

#include "actors/runtime/entity_request.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <tuple>
#include <utility>

namespace parley::runtime {

// Sends `args...` to `dest` (an actor or typed actor handle) and calls `on_reply` with the
// reply's values (a lambda with concrete parameter types) or `on_error(caf::error&)`, including
// sec::request_timeout after `within`.
template <class Handle, class OnReply, class OnError, class... Args>
void ask(caf::actor_system& sys, Handle dest, caf::timespan within, OnReply on_reply,
         OnError on_error, Args... args) {
  sys.spawn([dest = std::move(dest), within, on_reply = std::move(on_reply),
             on_error = std::move(on_error),
             args = std::make_tuple(std::move(args)...)](caf::event_based_actor* self) mutable {
    std::apply(
      [&](auto&... xs) {
        self->request(dest, within, std::move(xs)...).then(std::move(on_reply), std::move(on_error));
      },
      args);
  });
}

// The same for the virtual entity at `where`, typed by its interface `Api`
// (request_entity: resolved through the registry, re-sent once if it was passivated).
template <class Api, class OnReply, class OnError, class... Args>
void ask_entity(caf::actor_system& sys, entity_address where, caf::timespan within,
                OnReply on_reply, OnError on_error, Args... args) {
  sys.spawn([where = std::move(where), within, on_reply = std::move(on_reply),
             on_error = std::move(on_error),
             args = std::make_tuple(std::move(args)...)](caf::event_based_actor* self) mutable {
    std::apply(
      [&](auto&... xs) {
        request_entity<Api>(self, std::move(where), within, std::move(on_reply),
                            std::move(on_error), std::move(xs)...);
      },
      args);
  });
}

} // namespace parley::runtime
