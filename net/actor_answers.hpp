// How a REST handler waits for an actor (runtime::ask, runtime::ask_entity): for the edge's
// answer timeout, and answering a failure through its responder: the actor's error, or
// `unavailable` when it did not answer in time or is gone (to_fault).
#pragma once

#include "actors/runtime/errors.hpp"
#include "net/edge_context.hpp"
#include "net/http_types.hpp"

#include <caf/error.hpp>
#include <caf/timespan.hpp>

namespace parley::net {

// server.request_timeout_ms: the session answers 503 itself by then anyway.
inline caf::timespan answer_within(const edge_context& ctx) {
  return ctx.opts.server.answer_timeout;
}

// The on_error of an ask: answers the failure through `respond`.
inline auto answer_error(responder respond) {
  return [respond](caf::error& err) { respond(http_response::error(to_fault(err))); };
}

} // namespace parley::net
