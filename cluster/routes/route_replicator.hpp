// The route replicator: one actor per node that keeps the replicated routing table
// (../shared/CLUSTER.md, "Routing table"; the rules are cluster/placement/routing_table.hpp's).
//   - This node's connections are its own entries: every change of the node's chat routing table
//     comes here (route_atom), and the changes go to every live peer as one delta (net effect,
//     versioned) at most every `batch_interval`, one way: the first change after a quiet
//     interval at once, the ones that follow it in the next batch. A heartbeat tells peers
//     where this node stands, so a peer that lost a delta (a link that dropped) notices without
//     a next change.
//   - Peers' deltas are applied; a gap (or a heartbeat ahead of what is known) asks that origin
//     for its snapshot, a request to its "routes" service, retried while it is a member.
//   - Membership (the same news the peer link gets): a member that left is dropped at once (its
//     sessions vanish from every lookup here); a new one is asked for its snapshot. Only live
//     members are heard.
//   - What chat reads is published as it changes: the sessions on other nodes per user, and each
//     live peer's chat service (a forwarder to its node service "chat"), in the chat context's
//     cluster_view; users who came online or went offline on other nodes (and are not connected
//     here) are told to the presence actor, with the last_seen the origin reported.
//
// Node service "routes" (routes_service_api, from peers through the peer link):
//   (delta_atom, RoutingDelta)      a batch of the origin's changes
//   (position_atom, RoutingDelta)   heartbeat: the origin's incarnation and version, no changes
//   (snapshot_atom) -> RoutingSnapshot   this node's sessions as of its last delta
// From this node (route_replicator_api):
//   (route_atom, user, session, device, bool added)   a local session added or removed
//   (members_changed_atom, nodes, addresses)          the live members, this node included
//   (peer_link_atom, caf::actor link)                 the peer link, once it runs
//   (count_atom) -> uint64_t                          sessions known, this node's included
#pragma once

#include "actors/chat/chat_context.hpp"
#include "actors/runtime/atoms.hpp"
#include "cluster/link/link_types.hpp"
#include "common/clock.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

CAF_ADD_ATOM(parley_cluster, parley::atoms, route_atom, "route")

namespace parley::cluster {

using routes_service_api = caf::typed_actor<
  caf::reacts_to<delta_atom, pb::RoutingDelta>,
  caf::reacts_to<position_atom, pb::RoutingDelta>,
  caf::replies_to<snapshot_atom>::with<pb::RoutingSnapshot>>;

using route_replicator_api = routes_service_api::extend<
  caf::reacts_to<route_atom, std::string, std::string, std::string, bool>,
  caf::reacts_to<members_changed_atom, std::vector<std::string>, std::vector<std::string>>,
  caf::reacts_to<peer_link_atom, caf::actor>,
  caf::replies_to<count_atom>::with<uint64_t>>;

// The peer link's name for a node's route replicator.
constexpr const char* routes_service_name = "routes";

struct route_replicator_options {
  // This node's id and this process start's incarnation (the membership's).
  std::string node_id;
  uint64_t incarnation = 0;
  // This node's peer link (cluster/link/peer_link.hpp), or none until peer_link_atom brings it
  // (nothing goes to peers before: they ask for a snapshot when they meet this node).
  caf::actor link;
  // Where chat reads the cluster (ctx->cluster, which must be set) and whom presence news go
  // to (ctx->presence; none: not told); ctx->routes says who is connected here.
  chat::chat_context_ptr chat;
  // Shortest time between two deltas, and so the longest a local change waits before peers
  // hear of it. Default: 50 ms
  std::chrono::milliseconds batch_interval{50};
  // How often peers are told where this node stands. Default: 1 s
  std::chrono::milliseconds heartbeat_interval{1000};
  // Deadline of a snapshot request, and the pause before asking again. Default: 2 s, 500 ms
  std::chrono::milliseconds snapshot_deadline{2000};
  std::chrono::milliseconds retry_delay{500};
  // Deadline of requests to peers' chat services (their forwarders'). Default: 5 s
  std::chrono::milliseconds request_timeout{5000};
  // "now" in unix ms: last_seen of users whose last session here closed.
  clock_fn clock = unix_ms;
};

route_replicator_api spawn_route_replicator(caf::actor_system& sys,
                                            route_replicator_options opts);

} // namespace parley::cluster
