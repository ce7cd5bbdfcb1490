// The cluster's types: the one envelope that crosses nodes, the gateway interface that is the
// only actor a node publishes (../shared/CLUSTER.md, "The peer link"), and the messages of node
// services that ride inside envelopes (the replicated routing table's deltas and snapshots).
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/cluster_link.pb.h"
#include "proto/cluster_replication.pb.h"
#include "proto/cluster_routes.pb.h"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>

CAF_BEGIN_TYPE_ID_BLOCK(parley_cluster, caf::first_custom_type_id + 700)
CAF_ADD_TYPE_ID(parley_cluster, (parley::pb::Envelope))
// the replicated routing table (cluster/routes/); new types go last, so that IDs never shift
CAF_ADD_TYPE_ID(parley_cluster, (parley::pb::RoutingDelta))
CAF_ADD_TYPE_ID(parley_cluster, (parley::pb::RoutingSnapshot))
// replication (cluster/replication/)
CAF_ADD_TYPE_ID(parley_cluster, (parley::pb::ReplBatch))
CAF_ADD_TYPE_ID(parley_cluster, (parley::pb::ReplAck))
CAF_ADD_TYPE_ID(parley_cluster, (parley::pb::ReplPosition))
CAF_ADD_TYPE_ID(parley_cluster, (parley::pb::ReplCopy))
CAF_END_TYPE_ID_BLOCK(parley_cluster)

// Atoms of the replicated routing table's messages between nodes.
CAF_ADD_ATOM(parley_cluster, parley::atoms, delta_atom, "rt_delta")
CAF_ADD_ATOM(parley_cluster, parley::atoms, position_atom, "rt_pos")
CAF_ADD_ATOM(parley_cluster, parley::atoms, snapshot_atom, "rt_snap")
// This node's peer link, for node services that send to peers themselves.
CAF_ADD_ATOM(parley_cluster, parley::atoms, peer_link_atom, "peer_link")
// Atoms of replication (cluster/replication/).
CAF_ADD_ATOM(parley_cluster, parley::atoms, replicate_atom, "repl")
CAF_ADD_ATOM(parley_cluster, parley::atoms, replica_position_atom, "repl_pos")
CAF_ADD_ATOM(parley_cluster, parley::atoms, replica_reset_atom, "repl_reset")
CAF_ADD_ATOM(parley_cluster, parley::atoms, map_changed_atom, "map_chg")
CAF_ADD_ATOM(parley_cluster, parley::atoms, replica_copy_atom, "repl_copy")
CAF_ADD_ATOM(parley_cluster, parley::atoms, trim_log_atom, "repl_trim")

namespace parley::cluster {

// How much longer than a forwarded request's own deadline its sender waits for the link's
// answer: the link answers or fails every request by its deadline, this only catches a link
// that is gone altogether.
constexpr auto link_grace = std::chrono::seconds{1};

// What a peer may send to this node: envelopes, one way. Requests and their answers are
// matched by correlation id, so a peer's death can fail them at once (CAF would not).
using gateway_api = caf::typed_actor<caf::reacts_to<pb::Envelope>>;

// Announces the cluster's types; every node's actor system does this, clustered or not, so that
// type ids are the same everywhere.
void add_message_types(caf::actor_system_config& cfg);

} // namespace parley::cluster
