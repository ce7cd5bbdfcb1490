// A cluster's placement for tests that run several "nodes" on one actor system: the test says
// who owns each key and which members are alive, and may change both while the test runs.
#pragma once

#include "actors/runtime/placement.hpp"
#include "actors/runtime/service_router.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace parley::test {

struct fake_placement : runtime::placement_policy {
  // Who owns a key; unset: every key is here.
  std::function<runtime::entity_location(std::string_view kind, std::string_view key)> where;
  std::vector<std::string> live;

  runtime::entity_location locate(std::string_view kind, std::string_view key) const override {
    return where ? where(kind, key) : runtime::entity_location{};
  }
  std::vector<std::string> members() const override { return live; }
};

inline runtime::entity_location remote_at(std::string node) {
  return {runtime::entity_location::where::remote, std::move(node)};
}

// A router for node `self` whose stand-ins for other nodes' services are those nodes' actual
// actors (no peer link in between): `peers(service, node)` names them.
inline runtime::service_router_ptr
router_of(caf::actor_system& sys, std::string self, std::shared_ptr<fake_placement> placement,
          std::function<caf::actor(const std::string& service, const std::string& node)> peers) {
  return std::make_shared<runtime::service_router>(
    sys, std::move(self), std::move(placement),
    [peers = std::move(peers)](caf::actor_system&, const std::string& service,
                               const std::string& node) { return peers(service, node); });
}

} // namespace parley::test
