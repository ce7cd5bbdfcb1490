// How a REST handler waits for an actor (runtime::ask, runtime::ask_entity, tasks::ask_shard):
// for the edge's answer timeout, and answering through its responder: the actor's reply
// rendered, the actor's error, or `unavailable` when it did not answer in time or is gone
// (to_fault).
#pragma once

#include "actors/runtime/ask.hpp"
#include "actors/runtime/errors.hpp"
#include "net/edge_context.hpp"
#include "net/http_types.hpp"

#include <caf/detail/type_traits.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include <memory>
#include <utility>

namespace parley::net {

// server.request_timeout_ms: the session answers 503 itself by then anyway.
inline caf::timespan answer_within(const edge_context& ctx) {
  return ctx.opts.server.answer_timeout;
}

namespace detail {

// A reply handler with `render`'s own parameter types: CAF picks a reply's handler by them.
template <class Params>
struct render_reply;

template <class... Ts>
struct render_reply<caf::detail::type_list<Ts...>> {
  template <class Render>
  static auto make(std::shared_ptr<const responder> owner, Render render) {
    return [owner = std::move(owner), render = std::move(render)](Ts... xs) mutable {
      (*owner)(render(std::forward<Ts>(xs)...));
    };
  }
};

} // namespace detail

// The two callbacks of an ask that answer one request: `render` (a lambda with concrete
// parameter types returning the http_response) turns the actor's reply into the answer,
// `render_error` a failure. The request's responder is moved in and the two share it, the only
// place a responder has two holders: an ask runs exactly one of its callbacks (and may copy the
// reply handler to send again after a bounce), and the first answer wins anyway. If neither runs
// (the asking actor is gone), the last copy's destruction answers 503.
template <class Render, class RenderError = http_response (*)(const fault&)>
auto answer_with(responder respond, Render render,
                 RenderError render_error = &http_response::error) {
  auto owner = std::make_shared<const responder>(std::move(respond));
  using params = typename caf::detail::get_callable_trait<Render>::arg_types;
  auto on_reply = detail::render_reply<params>::make(owner, std::move(render));
  auto on_error = [owner = std::move(owner), render_error](caf::error& err) {
    (*owner)(render_error(to_fault(err)));
  };
  return std::make_pair(std::move(on_reply), std::move(on_error));
}

// Asks `dest` (runtime::ask, within the edge's answer timeout) and answers the request with
// render(reply) or the failure.
template <class Handle, class Render, class... Args>
void ask_and_answer(edge_context& ctx, Handle dest, responder respond, Render render,
                    Args... args) {
  auto [on_reply, on_error] = answer_with(std::move(respond), std::move(render));
  runtime::ask(ctx.sys, std::move(dest), answer_within(ctx), std::move(on_reply),
               std::move(on_error), std::move(args)...);
}

// The same for a keyed node service as routed to the node that owns the key
// (runtime::service_router, through the service's context): a routing failure (the key has no
// live owner now) is the answer.
template <class Handle, class Render, class... Args>
void ask_routed_and_answer(edge_context& ctx, caf::expected<Handle> routed, responder respond,
                           Render render, Args... args) {
  if (!routed)
    return respond(http_response::error(to_fault(routed.error())));
  ask_and_answer(ctx, std::move(*routed), std::move(respond), std::move(render),
                 std::move(args)...);
}

// The same for the virtual entity at `where` (runtime::ask_entity, typed by its interface Api).
template <class Api, class Render, class... Args>
void ask_entity_and_answer(edge_context& ctx, runtime::entity_address where, responder respond,
                           Render render, Args... args) {
  auto [on_reply, on_error] = answer_with(std::move(respond), std::move(render));
  runtime::ask_entity<Api>(ctx.sys, std::move(where), answer_within(ctx), std::move(on_reply),
                           std::move(on_error), std::move(args)...);
}

} // namespace parley::net
