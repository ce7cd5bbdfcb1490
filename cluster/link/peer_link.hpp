// The peer link: this node's end of the full mesh between members (../shared/CLUSTER.md, "The
// peer link"). One actor per node; it is the only actor the node publishes, and only envelopes
// (pb::Envelope) cross it. It
//   - carries forwarders' requests to the owner node and the answers back, matched by
//     correlation id, each with a deadline; the moment a peer is down (its gateway's down_msg, or
//     membership no longer lists it) every request pending on it fails with `unavailable`;
//   - serves peers' requests to this node's entities (through the local registry, only for
//     entities placed here) and node services, answering within the request's deadline;
//   - keeps a link to every member: CAF 0.17's remote_actor blocks, so it runs on a connector
//     per peer spawned `detached` (a thread of its own, never a scheduler worker or an io
//     thread), after an asynchronous probe of the port with a deadline.
//
// Local messages (from this node only):
//   (forward_atom, node, kind, id, int64_t deadline_ms, std::string payload) -> std::string:
//       a request for `node`'s entity (or service, id empty); the reply's payload, or the
//       owner's error, or `unavailable` (no link, deadline passed, peer down).
//   (forward_atom, node, kind, id, std::string payload): the same, one way; to a member whose
//       link is not up yet it waits (bounded) and goes, in order, when the link comes up.
//   (members_changed_atom, std::vector<std::string> nodes, std::vector<std::string> addresses):
//       the live members with their peer-link addresses ("host:port"), this node included;
//       links to others are opened, links to non-members are dropped.
//   (count_atom) -> uint64_t: peers linked now.
#pragma once

#include "actors/runtime/placement.hpp"
#include "cluster/link/invoker.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace parley::cluster {

// What this node serves to peers.
struct local_targets {
  // Entity kinds of the registry, each with its interface's invoker.
  caf::actor registry;
  std::shared_ptr<const runtime::placement_policy> placement;
  std::map<std::string, invoker> entity_kinds;
  // Node services (target id empty) by name: the actor and its interface's invoker.
  std::map<std::string, std::pair<caf::actor, invoker>> services;
};

struct peer_link_options {
  std::string node_id;
  local_targets targets;
  // Longest deadline a peer's request gets here, whatever it asks. Default: 30 s
  std::chrono::milliseconds max_deadline{30000};
  // Pause before connecting again to a member whose link dropped or did not open. Default: 500 ms
  std::chrono::milliseconds reconnect_delay{500};
  // How long a connector waits for a peer's port before trying again later. Default: 1 s
  std::chrono::milliseconds probe_timeout{1000};
};

// Spawns the link; publish it with publish_gateway (needs the middleman loaded).
caf::actor spawn_peer_link(caf::actor_system& sys, peer_link_options opts);

// Publishes the link's gateway at host:port (port 0: any; the port taken is returned). Blocking:
// call it at start-up, not from an actor.
caf::expected<uint16_t> publish_gateway(caf::actor_system& sys, const caf::actor& link,
                                        const std::string& host, uint16_t port);

} // namespace parley::cluster
