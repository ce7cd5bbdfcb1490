// How long a message waits in each actor's mailbox, measured now. CAF 0.17 exports no mailbox
// sizes, and an actor's mailbox may be read only by its owner, so the probe measures what a full
// mailbox costs instead: every actor answers CAF's built-in (sys, get, "info") request in
// mailbox order, and the time to its answer is the time a message arriving now waits there.
// The admin console's node.top and node.status and the mailbox metrics read it.
#pragma once

#include "common/result.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace parley::node {

struct probed_actor {
  std::string kind;
  std::string id;
  double wait_ms = -1;  // -1: no answer within the probe's timeout (2 s)
  bool entity = true;   // a virtual actor of the registry, not a singleton
};

// The registry's entity kinds, and how many of a kind are active (its actors_active gauge).
const std::vector<std::string>& entity_kinds();
int64_t active_entities(const std::string& kind);

using named_actors = std::vector<std::pair<std::string, caf::actor>>;
using probe_done = std::function<void(result<std::vector<probed_actor>>)>;

// Probes up to `per_kind` active entities of each kind (asking `registry` which) and every
// actor of `singletons`; `done` runs once, on an actor thread, when every probe answered or
// timed out.
void probe_mailboxes(caf::actor_system& sys, caf::actor registry, named_actors singletons,
                     uint64_t per_kind, probe_done done);

} // namespace parley::node
