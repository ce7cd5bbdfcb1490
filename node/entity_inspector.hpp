// The admin console's `entities inspect KIND ID`: asks the registry for the entity's activation
// on this node without activating it (peek_atom), then the entity itself for its own summary
// (inspect_atom of its service's interface), rendered as JSON. An entity that is not active here
// is reported as such; nothing is activated, read from storage or kept alive by asking.
#pragma once

#include "common/result.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace parley::node {

struct entity_report {
  std::string owner;    // the node that owns the entity
  bool active = false;  // an activation on this node answered
  std::string summary;  // its summary as JSON (protobuf field names); empty when not active
};

using inspect_done = std::function<void(result<entity_report>)>;

// `done` runs once, on an actor thread. Unknown kinds are a bad_request (the registry's).
void inspect_entity(caf::actor_system& sys, caf::actor registry, std::string kind, std::string id,
                    std::chrono::milliseconds within, inspect_done done);

} // namespace parley::node
