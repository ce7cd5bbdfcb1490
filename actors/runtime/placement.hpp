// Placement: which node owns the entity (kind, id). Every service asks the registry, and the
// registry asks this one interface, so that clustering changes placement only
// (ARCHITECTURE.md, "Virtual actors and placement"). A single node places everything here; the
// cluster (cluster/) implements it from the partition map.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::runtime {

struct entity_location {
  enum class where {
    local,        // this node owns it: activate it here
    remote,       // `node` owns it: forward to it
    unavailable,  // no live owner yet (a handoff, a dead primary): answer `unavailable`
  };
  where at = where::local;
  // The owner (remote), or what is known of the missing one (unavailable, for the message).
  std::string node;
};

class placement_policy {
public:
  virtual ~placement_policy() = default;
  // Called on the registry's thread for every activation: must be quick and must not block.
  // May be called from several threads at once.
  virtual entity_location locate(std::string_view kind, std::string_view id) const = 0;
  // The live members (node ids, this node included), for what a node tells every other one
  // (service_router::others). Empty on a single node.
  virtual std::vector<std::string> members() const { return {}; }
};

} // namespace parley::runtime
