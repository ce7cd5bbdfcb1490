// The replicated routing table's structs (cluster/placement/routing_table.hpp) as the protobuf
// messages that travel between nodes (proto/cluster_routes.proto), and back.
#pragma once

#include "cluster/placement/routing_table.hpp"
#include "proto/cluster_routes.pb.h"

namespace parley::cluster {

pb::RoutingDelta to_proto(const routing_delta& delta);
pb::RoutingSnapshot to_proto(const routing_snapshot& snapshot);

// Changes of an unknown op are left out (a newer peer's; none exist yet).
routing_delta from_proto(const pb::RoutingDelta& delta);
routing_snapshot from_proto(const pb::RoutingSnapshot& snapshot);

} // namespace parley::cluster
