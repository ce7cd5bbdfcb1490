// Keyed node services: actors that a node runs once (the follow graph, the link service, the
// lease broker, the rate limiter's counters, fan-out) but whose data is keyed (a user, a link
// key, a rate-limit key). In a cluster the data of a key lives on the primary of its partition
// (../shared/CLUSTER.md, "Services in a cluster"), so a caller asks for "the service on the node
// that owns the key": the router asks the placement policy (the registry's, so an entity and a
// keyed service with the same key live on the same node) and hands out this node's actor, or a
// stand-in for the owner's that speaks the same typed interface (a forwarder through the peer
// link, spawned by cluster/ through `remote_factory`, one per service and node), or the error
// `unavailable` while the key has no live owner.
//
// On a single node there is no placement: every key is local and routing is one map lookup.
// Callers hold the router in their service's context; thread-safe (HTTP handlers route on io
// threads, actors on scheduler threads).
//
// Why not registry entities: these services are few per node and long-lived, and several answer
// for many keys in one message (a fan-out batch, a page of followers); an entity per key would
// be an actor per user or link, and an entity per partition would need ids that hash to their
// own partition. docs/cluster.md, "Services in a cluster".
#pragma once

#include "actors/runtime/placement.hpp"

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::runtime {

class service_router {
public:
  // -- member types --

  // Spawns this node's stand-in for `service` on `node`: an actor of the service's interface
  // that carries each message to that node. Called under the router's lock; must not block.
  using remote_factory =
    std::function<caf::actor(caf::actor_system& sys, const std::string& service,
                             const std::string& node)>;

  // -- constructors --

  // A single node: every key is local.
  explicit service_router(caf::actor_system& sys);
  // A cluster member `local_node`, placing keys with `placement`.
  service_router(caf::actor_system& sys, std::string local_node,
                 std::shared_ptr<const placement_policy> placement, remote_factory remote);
  ~service_router();

  service_router(const service_router&) = delete;
  service_router& operator=(const service_router&) = delete;

  // -- modifiers --

  // This node's actor for `service`. At start-up, before anything routes to it.
  void add(const std::string& service, caf::actor local);

  // Sends every stand-in an exit (the node stops); routing answers `unavailable` afterwards.
  void stop();

  // -- observers --

  // Whether other nodes may own keys (a cluster member).
  bool clustered() const { return placement_ != nullptr; }
  const std::string& local_node() const { return local_node_; }

  // Where the data of `key` lives, for `service` or an entity kind (the placement ignores the
  // kind today: partition_of(key)). Local on a single node.
  entity_location locate(std::string_view service, std::string_view key) const;
  bool here(std::string_view service, std::string_view key) const {
    return locate(service, key).at == entity_location::where::local;
  }

  // This node's actor for `service` (null if none was added).
  caf::actor local(std::string_view service) const;

  // The actor that serves `key`: the local one, or the stand-in for the owner's; `unavailable`
  // while the key has no live owner or the owner cannot be reached from here.
  caf::expected<caf::actor> route(std::string_view service, std::string_view key);

  template <class Api>
  caf::expected<Api> route_as(std::string_view service, std::string_view key) {
    auto found = route(service, key);
    if (!found)
      return std::move(found.error());
    return caf::actor_cast<Api>(std::move(*found));
  }

  // The service on `node` (this node: the local actor); null when it cannot be had.
  caf::actor at(std::string_view service, const std::string& node);

  // The live members other than this node (empty on a single node).
  std::vector<std::string> other_nodes() const;

  // `service` on every other live member, for what every node must hear (ready tasks, pulled
  // authors); empty on a single node.
  std::vector<std::pair<std::string, caf::actor>> others(std::string_view service);

private:
  caf::actor_system& sys_;
  std::string local_node_;
  std::shared_ptr<const placement_policy> placement_;
  remote_factory remote_;
  mutable std::mutex mtx_;
  std::map<std::string, caf::actor, std::less<>> locals_;
  // Stand-ins by service and node.
  std::map<std::pair<std::string, std::string>, caf::actor> remotes_;
  bool stopped_ = false;
};

using service_router_ptr = std::shared_ptr<service_router>;

} // namespace parley::runtime
