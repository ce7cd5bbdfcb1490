// Requests to virtual entities (kind, id) from inside an actor: ask the registry for the
// entity's handle, then send the request to the entity directly, typed by its service's
// interface (actors/<service>/<service>_api.hpp), so a wrong message is a compile error.
//
// Passivation is safe: if the entity was passivated between the registry's answer and the
// request's arrival, CAF bounces the request (sec::request_receiver_down); it is then sent once
// more through a fresh handle (the registry activates the entity again). Nothing is lost.
//
// Order: a caller that keeps its handles (entity_channels) sends its requests to one entity in
// the order it made them, also across a resolve and across a bounce: requests wait behind a
// resolve in flight, and bounced ones are re-sent by their original position. (All of a dead
// activation's bounces reach the caller before the registry can answer the new resolve: they
// are enqueued when the activation closes its mailbox, before the registry learns it is down.)
#pragma once

#include "actors/runtime/atoms.hpp"

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/duration.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace parley::runtime {

// Where an entity lives.
struct entity_address {
  caf::actor registry;
  std::string kind;
  std::string id;
};

// One caller's handles to entities of one interface, kept while the registry says they are
// valid, so that a busy caller (a connection sending to its conversations) skips the registry.
// Lives in the caller's actor state and is only touched on its thread. Bounded: past
// `capacity`, channels with nothing in flight are dropped, expired ones first.
template <class Api>
class entity_channels {
public:
  using time_point = caf::actor_clock::time_point;

  // A request waiting for a handle: sent through it, or failed with the resolve's error.
  struct waiting_call {
    uint64_t ticket;  // the request's place in the caller's order
    std::function<void(const Api&)> send;
    std::function<void(caf::error&)> fail;
  };

  struct channel {
    Api handle;
    time_point valid_until{};
    bool resolving = false;
    std::vector<waiting_call> waiting;  // by ticket

    bool usable(time_point now) const { return !resolving && handle && valid_until > now; }
    void wait(waiting_call call) {
      auto pos = std::upper_bound(waiting.begin(), waiting.end(), call.ticket,
                                  [](uint64_t t, const waiting_call& w) { return t < w.ticket; });
      waiting.insert(pos, std::move(call));
    }
  };

  explicit entity_channels(size_t capacity = 32) : capacity_(capacity) {}

  // The channel to `id`, made if needed.
  channel& at(const std::string& id, time_point now) {
    auto it = channels_.find(id);
    if (it != channels_.end())
      return it->second;
    if (channels_.size() >= capacity_)
      make_room(now);
    return channels_[id];
  }

  uint64_t next_ticket() { return ++tickets_; }

  size_t size() const { return channels_.size(); }

private:
  void make_room(time_point now) {
    auto idle = [](const channel& c) { return !c.resolving && c.waiting.empty(); };
    for (auto it = channels_.begin(); it != channels_.end();)
      it = idle(it->second) && it->second.valid_until <= now ? channels_.erase(it) : std::next(it);
    for (auto it = channels_.begin(); channels_.size() >= capacity_ && it != channels_.end();)
      it = idle(it->second) ? channels_.erase(it) : std::next(it);
  }

  size_t capacity_;
  uint64_t tickets_ = 0;
  std::unordered_map<std::string, channel> channels_;
};

namespace detail {

template <class OnReply, class OnError, class... Args>
struct entity_call {
  entity_address where;
  caf::timespan within;
  bool bounded_send;  // the hop to the entity bounded by `within` too (else the caller's own)
  OnReply on_reply;
  OnError on_error;
  std::tuple<Args...> args;
};

inline bool bounced(const caf::error& err) {
  return err == caf::sec::request_receiver_down;
}

// Sends the call through `handle`; `on_bounce` runs instead of on_error if the entity was gone.
template <class Api, class Self, class Call, class OnBounce>
void send_through(Self* self, const std::shared_ptr<Call>& call, const Api& handle,
                  OnBounce on_bounce) {
  std::apply(
    [&](const auto&... xs) {
      auto within =
        call->bounded_send ? caf::duration{call->within} : caf::duration{caf::infinite};
      self->request(handle, within, xs...)
        .then(call->on_reply, [call, on_bounce](caf::error& err) mutable {
          if (bounced(err))
            on_bounce(err);
          else
            call->on_error(err);
        });
    },
    call->args);
}

// Asks the registry for the entity's handle; `then(handle)` or the call's on_error.
template <class Api, class Self, class Call, class Then>
void resolve(Self* self, const std::shared_ptr<Call>& call, Then then) {
  auto& where = call->where;
  self->request(where.registry, call->within, resolve_atom_v, where.kind, where.id)
    .then([then](caf::actor& handle, caf::timespan) mutable { then(caf::actor_cast<Api>(handle)); },
          [call](caf::error& err) { call->on_error(err); });
}

// A one-off request: resolve, send, and on a bounce resolve and send once more.
template <class Api, class Self, class Call>
void resolve_and_send(Self* self, std::shared_ptr<Call> call, bool may_retry) {
  resolve<Api>(self, call, [self, call, may_retry](const Api& handle) {
    send_through(self, call, handle, [self, call, may_retry](caf::error& err) {
      if (may_retry)
        resolve_and_send<Api>(self, call, false);
      else
        call->on_error(err);
    });
  });
}

template <class Api, class Self>
void resolve_channel(Self* self, entity_channels<Api>& channels, const entity_address& where,
                     caf::timespan within) {
  channels.at(where.id, self->clock().now()).resolving = true;
  self->request(where.registry, within, resolve_atom_v, where.kind, where.id)
    .then(
      [self, &channels, id = where.id](caf::actor& handle, caf::timespan valid) {
        auto& ch = channels.at(id, self->clock().now());
        ch.resolving = false;
        ch.handle = caf::actor_cast<Api>(handle);
        ch.valid_until = self->clock().now() + valid;
        auto waiting = std::move(ch.waiting);
        ch.waiting.clear();
        auto fresh = ch.handle;
        for (auto& w : waiting)
          w.send(fresh);
      },
      [self, &channels, id = where.id](caf::error& err) {
        auto& ch = channels.at(id, self->clock().now());
        ch.resolving = false;
        auto waiting = std::move(ch.waiting);
        ch.waiting.clear();
        for (auto& w : waiting)
          w.fail(err);
      });
}

// Sends the call now if the channel has a usable handle, else queues it by its ticket behind a
// resolve (started if none is in flight).
template <class Api, class Self, class Call>
void submit(Self* self, entity_channels<Api>& channels, std::shared_ptr<Call> call,
            uint64_t ticket, bool may_retry) {
  auto now = self->clock().now();
  auto& ch = channels.at(call->where.id, now);
  auto send = [self, &channels, call, ticket, may_retry](const Api& handle) {
    send_through(self, call, handle, [self, &channels, call, ticket, may_retry,
                                      handle](caf::error& err) {
      if (!may_retry)
        return call->on_error(err);
      auto& ch = channels.at(call->where.id, self->clock().now());
      if (ch.handle && ch.handle.address() == handle.address())
        ch.handle = Api{};  // that activation is gone
      submit<Api>(self, channels, call, ticket, false);
    });
  };
  if (ch.usable(now)) {
    send(ch.handle);
    return;
  }
  ch.wait({ticket, std::move(send), [call](caf::error& err) { call->on_error(err); }});
  if (!ch.resolving)
    resolve_channel(self, channels, call->where, call->within);
}

} // namespace detail

// Sends `args...` to the entity at `where` as a request of the interface `Api` and calls exactly
// one of `on_reply` (with the reply's values; a lambda with concrete parameter types) or
// `on_error(caf::error&)`. `within` bounds each hop.
template <class Api, class Self, class OnReply, class OnError, class... Args>
void request_entity(Self* self, entity_address where, caf::timespan within, OnReply on_reply,
                    OnError on_error, Args... args) {
  using call_t = detail::entity_call<OnReply, OnError, Args...>;
  auto call = std::make_shared<call_t>(call_t{std::move(where), within, true,
                                              std::move(on_reply), std::move(on_error),
                                              std::make_tuple(std::move(args)...)});
  detail::resolve_and_send<Api>(self, std::move(call), true);
}

// The same, to a handle the caller resolved earlier and keeps elsewhere (a node-wide table): a
// request that bounces is resolved again and re-sent once. No order is kept across that bounce;
// callers that need one use entity_channels.
template <class Api, class Self, class OnReply, class OnError, class... Args>
void request_entity(Self* self, const Api& handle, entity_address where, caf::timespan within,
                    OnReply on_reply, OnError on_error, Args... args) {
  using call_t = detail::entity_call<OnReply, OnError, Args...>;
  auto call = std::make_shared<call_t>(call_t{std::move(where), within, true,
                                              std::move(on_reply), std::move(on_error),
                                              std::make_tuple(std::move(args)...)});
  detail::send_through(self, call, handle, [self, call](caf::error&) {
    detail::resolve_and_send<Api>(self, call, false);
  });
}

// The same through the caller's channels (which must outlive the reply, i.e. live in the
// caller's state): a valid handle is used directly, requests to one entity keep their order.
template <class Api, class Self, class OnReply, class OnError, class... Args>
void request_entity(Self* self, entity_channels<Api>& channels, entity_address where,
                    caf::timespan within, OnReply on_reply, OnError on_error, Args... args) {
  using call_t = detail::entity_call<OnReply, OnError, Args...>;
  auto call = std::make_shared<call_t>(call_t{std::move(where), within, true,
                                              std::move(on_reply), std::move(on_error),
                                              std::make_tuple(std::move(args)...)});
  detail::submit<Api>(self, channels, std::move(call), channels.next_ticket(), true);
}

// The same for a caller that keeps the call's deadline itself (runtime::call_deadlines): only the
// resolve through the registry is bounded by `resolve_within`; the hop to the entity registers no
// timeout in CAF's clock.
template <class Api, class Self, class OnReply, class OnError, class... Args>
void request_entity_unbounded(Self* self, entity_channels<Api>& channels, entity_address where,
                              caf::timespan resolve_within, OnReply on_reply, OnError on_error,
                              Args... args) {
  using call_t = detail::entity_call<OnReply, OnError, Args...>;
  auto call = std::make_shared<call_t>(call_t{std::move(where), resolve_within, false,
                                              std::move(on_reply), std::move(on_error),
                                              std::make_tuple(std::move(args)...)});
  detail::submit<Api>(self, channels, std::move(call), channels.next_ticket(), true);
}

} // namespace parley::runtime
