// The receiving side of forwarding: a message read from a peer's envelope is delivered to the
// local entity (or node service) as the request of its interface `Api` it is, and the entity's
// reply or error comes back as a message to send home. A message that is none of the
// interface's requests is refused, never guessed at.
#pragma once

#include "actors/runtime/atoms.hpp"

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/message_handler.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace parley::cluster {

// Called once with the reply (an empty message for a one-way message) or the error.
using answer_fn = std::function<void(caf::expected<caf::message>)>;

// Delivers `msg` to `target` within `within`, as a request or (`one_way`) a plain message, as
// the peer sent it (the interface's type cannot tell: `replies_to<...>::with<void>` and
// `reacts_to<...>` are one type in CAF 0.17); false (and `done` not called) when `msg` is not a
// message of the interface.
using invoker = std::function<bool(caf::event_based_actor* self, const caf::actor& target,
                                   caf::message& msg, bool one_way, caf::timespan within,
                                   answer_fn done)>;

namespace detail {

template <class... Is, class... Os>
auto invoking_handler(caf::event_based_actor* self, const caf::actor& target, bool one_way,
                      caf::timespan within, const std::shared_ptr<answer_fn>& done,
                      caf::typed_mpi<caf::detail::type_list<Is...>, caf::output_tuple<Os...>>*) {
  return [self, target, one_way, within, done](Is... xs) {
    if (one_way) {
      self->send(target, std::move(xs)...);
      (*done)(caf::message{});
    } else if constexpr ((std::is_void_v<Os> && ...)) {
      self->request(target, within, std::move(xs)...)
        .then([done]() { (*done)(caf::message{}); },
              [done](caf::error& err) { (*done)(std::move(err)); });
    } else {
      self->request(target, within, std::move(xs)...)
        .then([done](Os&... ys) { (*done)(caf::make_message(std::move(ys)...)); },
              [done](caf::error& err) { (*done)(std::move(err)); });
    }
  };
}

template <class... Sigs>
caf::message_handler invoking_handlers(caf::event_based_actor* self, const caf::actor& target,
                                       bool one_way, caf::timespan within,
                                       const std::shared_ptr<answer_fn>& done, bool& refused,
                                       caf::detail::type_list<Sigs...>*) {
  // A peer never passivates this node's entities: only the local registry does.
  return {[&refused](passivate_atom) { refused = true; },
          invoking_handler(self, target, one_way, within, done, static_cast<Sigs*>(nullptr))...};
}

} // namespace detail

template <class Api>
invoker invoker_for() {
  return [](caf::event_based_actor* self, const caf::actor& target, caf::message& msg,
            bool one_way, caf::timespan within, answer_fn done) {
    auto shared = std::make_shared<answer_fn>(std::move(done));
    bool refused = false;
    auto handlers = detail::invoking_handlers(self, target, one_way, within, shared, refused,
                                              static_cast<typename Api::signatures*>(nullptr));
    return static_cast<bool>(msg.apply(handlers)) && !refused;
  };
}

} // namespace parley::cluster
