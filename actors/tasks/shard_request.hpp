// Requests of task_shard_api to task shard `shard`, through its cached handle (shard_handles.hpp)
// or, when none is valid, the registry. request_shard is for actors; ask_shard for callers
// outside actors (HTTP handlers, the push sink), like runtime::ask_entity: a short-lived actor
// asks, so the callbacks never travel in a message. Exactly one of on_reply (a lambda with
// concrete parameter types) or on_error(caf::error&) runs; `within` bounds each hop. A request
// bounced by a shard passivated meanwhile is re-sent once through a fresh handle: nothing is lost.
#pragma once

#include "actors/runtime/entity_request.hpp"
#include "actors/tasks/tasks_context.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <string>
#include <tuple>
#include <utility>

namespace parley::tasks {

template <class Self, class OnReply, class OnError, class... Args>
void request_shard(Self* self, tasks_context_ptr ctx, uint32_t shard, caf::timespan within,
                   OnReply on_reply, OnError on_error, Args... args) {
  auto where = shard_at(*ctx, shard);
  if (auto handle = ctx->shards.get(shard, self->clock().now()))
    return runtime::request_entity<task_shard_api>(self, *handle, std::move(where), within,
                                                   std::move(on_reply), std::move(on_error),
                                                   std::move(args)...);
  auto kind = where.kind;
  auto id = where.id;
  self->request(ctx->registry, within, resolve_atom_v, std::move(kind), std::move(id))
    .then(
      [self, ctx, shard, where, within, on_reply, on_error,
       args = std::make_tuple(args...)](caf::actor& found, caf::timespan valid) {
        auto handle = caf::actor_cast<task_shard_api>(found);
        ctx->shards.put(shard, handle, self->clock().now() + valid);
        std::apply(
          [&](const auto&... xs) {
            runtime::request_entity<task_shard_api>(self, handle, where, within, on_reply,
                                                    on_error, xs...);
          },
          args);
      },
      [on_error](caf::error& err) { on_error(err); });
}

template <class OnReply, class OnError, class... Args>
void ask_shard(caf::actor_system& sys, tasks_context_ptr ctx, uint32_t shard, caf::timespan within,
               OnReply on_reply, OnError on_error, Args... args) {
  sys.spawn([ctx = std::move(ctx), shard, within, on_reply = std::move(on_reply),
             on_error = std::move(on_error),
             args = std::make_tuple(std::move(args)...)](caf::event_based_actor* self) mutable {
    std::apply(
      [&](auto&... xs) {
        request_shard(self, std::move(ctx), shard, within, std::move(on_reply),
                      std::move(on_error), std::move(xs)...);
      },
      args);
  });
}

} // namespace parley::tasks
