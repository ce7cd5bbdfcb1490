// The rate limiter's node service: in a cluster, a rule of scope "cluster" counts each key once,
// at the node that owns the key (the primary of partition_of(key), as for every keyed service:
// runtime::service_router). An edge whose key lives elsewhere asks that node's limit service
// (one hop, within the request's time) and folds the verdict into its own decision
// (rate_limiter::fold); an owner that does not answer leaves the rule's on_error to decide.
// Rules of scope "node" (the default) never leave the node that sees the request.
//
// limit_service_api:
//   (limit_check_atom, RateLimitAsk) -> RateLimitVerdict   the rule counts the key here
#pragma once

#include "actors/limits/limiter.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/limit_actors.pb.h"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <memory>

CAF_BEGIN_TYPE_ID_BLOCK(parley_limits, caf::first_custom_type_id + 800)
CAF_ADD_ATOM(parley_limits, parley::atoms, limit_check_atom, "limitcheck")
CAF_ADD_TYPE_ID(parley_limits, (parley::pb::RateLimitAsk))
CAF_ADD_TYPE_ID(parley_limits, (parley::pb::RateLimitVerdict))
CAF_END_TYPE_ID_BLOCK(parley_limits)

namespace parley::limits {

using limit_service_api =
  caf::typed_actor<caf::replies_to<limit_check_atom, pb::RateLimitAsk>::with<pb::RateLimitVerdict>>;

// The name peers reach a node's limit service by (runtime::service_router).
constexpr const char* limit_service_name = "rate_limiter";

limit_service_api spawn_limit_service(caf::actor_system& sys, std::shared_ptr<rate_limiter> limiter);

// A remote check as its request, and a verdict back as a decision (and the other way).
pb::RateLimitAsk to_ask(const remote_check& check);
remote_check from_ask(const pb::RateLimitAsk& ask);
pb::RateLimitVerdict to_verdict(const decision& d);
decision from_verdict(const pb::RateLimitVerdict& v);

} // namespace parley::limits
