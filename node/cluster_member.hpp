// This node's part in a cluster (../shared/CLUSTER.md), wired into the node: the peer link and
// its published gateway, membership in etcd, the partition map, and the registry's placement
// and forwarders. A single node (cluster.enabled = false) builds none of it.
//
// Placement (docs/cluster.md): the partition map in etcd is assigned once, by rendezvous over
// the members present when `cluster.bootstrap_members` have joined. With replication factor 1 it
// then stays: a partition's data lives on its primary's disk only, so a primary that is down
// leaves its partitions unavailable until it returns. With factor 2 (docs/replication.md) the
// keeper also fails over: a primary whose lease is gone is replaced by its caught-up backup, a
// lost backup by the next live member in rendezvous order, each a compare-and-set that raises
// the partition's epoch. A node that joins later owns nothing yet and forwards.
#pragma once

#include "actors/admin/admin_api.hpp"
#include "actors/runtime/placement.hpp"
#include "cluster/replication/replication_map.hpp"
#include "actors/runtime/registry.hpp"
#include "actors/runtime/service_router.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "cluster/link/peer_link.hpp"
#include "common/result.hpp"
#include "node/node_config.hpp"

#include <caf/fwd.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace parley::node {

class cluster_member {
public:
  // Called with the node's readiness (joined, every partition assigned, linked to the live
  // members) whenever it changes, on a thread of the cluster member's own.
  using readiness_handler = std::function<void(bool)>;

  cluster_member(cluster_options opts, std::string node_id, readiness_handler on_readiness);
  ~cluster_member();
  cluster_member(const cluster_member&) = delete;
  cluster_member& operator=(const cluster_member&) = delete;

  // Before the actor system exists: the middleman, its heartbeats and the cluster's types.
  static void configure(caf::actor_system_config& caf_cfg, const cluster_options& opts);

  // For the registry, before it is spawned: where each entity lives, and the forwarders to
  // entities of other nodes (they reach the link once start() has spawned it).
  std::shared_ptr<const runtime::placement_policy> placement() const;
  std::map<std::string, runtime::remote_factory> forwarders() const;
  // For the service router (actors/runtime/service_router.hpp): stand-ins for other nodes'
  // keyed services, each a forwarder of the service's interface through the peer link.
  runtime::service_router::remote_factory service_forwarders() const;
  // The node services peers may call (start()'s `services`): every keyed service the router
  // has a local actor for, and the admin actor, with their interfaces' invokers.
  static std::map<std::string, std::pair<caf::actor, cluster::invoker>>
  node_services(const runtime::service_router& router, const admin::admin_api& admin);
  // The admin actors of the other live members, for cluster-scope admin commands: forwarders to
  // their node service "admin", made once per member and dropped when it leaves. Any thread.
  std::map<std::string, admin::admin_api> peer_admins();

  // For the storage writer: closed while the membership lease is in doubt.
  runtime::write_fence fence() const;

  // This node's peer link, for node services that send to peers themselves (the route
  // replicator); empty before start() and after leave(). From start()'s thread.
  caf::actor link() const;

  // Replication (cluster.replication_factor 2): each partition's epoch, primary, backup and
  // whether the backup caught up, as etcd says; kept by this member.
  std::shared_ptr<const cluster::replication_map> replication() const;
  // Tells `listener` (map_changed_atom) whenever replication() changed. Before start().
  void add_map_listener(caf::actor listener);
  // The replicating writer's news that `backup` caught up with `partition`: recorded in etcd
  // (backup_ready) by the keeper, if the map still names it. Any thread.
  void report_caught_up(uint32_t partition, const std::string& backup);

  // Also tells `listener` of every change of the live members, as the peer link is told:
  // (members_changed_atom, node ids, peer-link addresses), this node included. Before start().
  void add_member_listener(caf::actor listener);

  // Joins the cluster in etcd (member key under a lease kept alive, the member list watched).
  // Before the services start, so that the write fence is open when they first write. Blocks
  // for a few etcd round trips.
  fault join();

  // Spawns the peer link (serving `registry`'s entities and `services` to peers), publishes its
  // gateway on cluster.listen, and starts following the partition map: from then on the
  // registry places entities and readiness is reported.
  fault start(caf::actor_system& sys, caf::actor registry,
              std::map<std::string, std::pair<caf::actor, cluster::invoker>> services);

  // Lame duck done: revokes the lease (peers see this node gone at once), stops following etcd
  // and stops the link. Idempotent; the destructor calls it.
  void leave();

  // -- observers (any thread) --

  bool ready() const { return ready_; }
  const std::string& node_id() const;
  // This process start's incarnation in the member list (set by join()).
  uint64_t incarnation() const;

  // What the admin console shows: members, partitions, links.
  struct member {
    std::string node_id;
    std::string advertise;  // its peer-link address
    int64_t started_at_ms = 0;
  };
  struct status {
    std::vector<member> members;
    uint32_t partitions = 0;
    uint32_t primaries_here = 0;
    uint32_t unavailable = 0;
    uint64_t peers_linked = 0;
    bool lease_healthy = false;
  };
  status snapshot() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
  std::atomic<bool> ready_{false};
};

} // namespace parley::node
