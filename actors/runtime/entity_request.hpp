// Requests to virtual entities (kind, id) from inside an actor: ask the registry for the
// entity's handle, then send the request to the entity directly, typed by its service's
// interface (actors/<service>/<service>_api.hpp), so a wrong message is a compile error.
//
// Passivation is safe: if the entity was passivated between the registry's answer and the
// request's arrival, CAF bounces the request (sec::request_receiver_down); it is then sent once
// more through a fresh handle (the registry activates the entity again). Nothing is lost, and
// requests of one caller keep their order because every retry goes through the registry, which
// answers in arrival order.
#pragma once

#include "actors/runtime/atoms.hpp"

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>

#include <memory>
#include <string>
#include <tuple>
#include <utility>

namespace parley::runtime {

// Where an entity lives.
struct entity_address {
  caf::actor registry;
  std::string kind;
  std::string id;
};

namespace detail {

template <class OnReply, class OnError, class... Args>
struct entity_call {
  entity_address where;
  caf::timespan within;
  OnReply on_reply;
  OnError on_error;
  std::tuple<Args...> args;
};

inline bool bounced(const caf::error& err) {
  return err == caf::sec::request_receiver_down;
}

template <class Api, class Self, class Call>
void resolve_then_send(Self* self, std::shared_ptr<Call> call, bool may_retry);

template <class Api, class Self, class Call>
void send_to_entity(Self* self, std::shared_ptr<Call> call, const Api& handle, bool may_retry) {
  std::apply(
    [&](const auto&... xs) {
      self->request(handle, call->within, xs...)
        .then(call->on_reply, [self, call, may_retry](caf::error& err) {
          if (may_retry && bounced(err))
            resolve_then_send<Api>(self, call, false);
          else
            call->on_error(err);
        });
    },
    call->args);
}

template <class Api, class Self, class Call>
void resolve_then_send(Self* self, std::shared_ptr<Call> call, bool may_retry) {
  self->request(call->where.registry, call->within, resolve_atom_v, call->where.kind, call->where.id)
    .then(
      [self, call, may_retry](caf::actor& handle, caf::timespan) {
        send_to_entity<Api>(self, call, caf::actor_cast<Api>(handle), may_retry);
      },
      [call](caf::error& err) { call->on_error(err); });
}

} // namespace detail

// Sends `args...` to the entity at `where` as a request of the interface `Api` and calls exactly
// one of `on_reply` (with the reply's values; a lambda with concrete parameter types) or
// `on_error(caf::error&)`. `within` bounds each hop.
template <class Api, class Self, class OnReply, class OnError, class... Args>
void request_entity(Self* self, entity_address where, caf::timespan within, OnReply on_reply,
                    OnError on_error, Args... args) {
  using call_t = detail::entity_call<OnReply, OnError, Args...>;
  auto call = std::make_shared<call_t>(call_t{std::move(where), within, std::move(on_reply),
                                              std::move(on_error),
                                              std::make_tuple(std::move(args)...)});
  detail::resolve_then_send<Api>(self, std::move(call), true);
}

// The same, to a handle the caller resolved earlier (and may keep while it is valid): a bounced
// request is re-sent through the registry.
template <class Api, class Self, class OnReply, class OnError, class... Args>
void request_entity(Self* self, const Api& handle, entity_address where, caf::timespan within,
                    OnReply on_reply, OnError on_error, Args... args) {
  using call_t = detail::entity_call<OnReply, OnError, Args...>;
  auto call = std::make_shared<call_t>(call_t{std::move(where), within, std::move(on_reply),
                                              std::move(on_error),
                                              std::make_tuple(std::move(args)...)});
  detail::send_to_entity<Api>(self, std::move(call), handle, true);
}

} // namespace parley::runtime
