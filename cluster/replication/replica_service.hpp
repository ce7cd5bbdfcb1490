// The backup side of replication: node service "replica", one actor per node
// (docs/replication.md). A partition's primary ships it batches of records; it applies each
// partition's records in lsn order only, together with its applied position and its own copy
// of the log (so that, promoted, it can bring a new backup up), and answers with what is
// durable. It takes records only from the primary the partition map names, only while the map
// names this node the backup, and never in an epoch older than the map's: a former primary cut
// off from the cluster is refused (../shared/CLUSTER.md, Replication).
//
//   (replicate_atom, ReplBatch) -> ReplAck          applied and durable, per partition of the batch
//   (replica_position_atom, partition) -> ReplPosition   what is durable here
//   (replica_reset_atom, partition, epoch, copy_follows) -> ReplPosition
//       forgets everything of the partition (its records, log and position) before a copy from
//       the primary's snapshot (copy_follows) or its whole log; only from the partition's
//       primary, like a batch.
//   (replica_copy_atom, ReplCopy) -> ReplPosition
//       a slice of that copy, only after the reset and in its epoch; the last one sets the
//       position the copy reaches (answered), from which the primary's log goes on.
// A record after a gap stops that partition's part of the batch: the answer says where this
// node stands, and the primary sends again from there.
#pragma once

#include "cluster/link/link_types.hpp"
#include "cluster/replication/replication_map.hpp"
#include "storage/engine.hpp"
#include "storage/group_commit_writer.hpp"
#include "storage/replication_log.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <string>

namespace parley::cluster {

constexpr const char* replica_service_name = "replica";

using replica_api = caf::typed_actor<
  caf::replies_to<replicate_atom, pb::ReplBatch>::with<pb::ReplAck>,
  caf::replies_to<replica_position_atom, uint32_t>::with<pb::ReplPosition>,
  caf::replies_to<replica_reset_atom, uint32_t, uint64_t, bool>::with<pb::ReplPosition>,
  caf::replies_to<replica_copy_atom, pb::ReplCopy>::with<pb::ReplPosition>>;

struct replica_options {
  std::shared_ptr<const replication_map> map;
  storage::engine* db = nullptr;                   // reads positions and what a reset erases
  storage::group_commit_writer* writer = nullptr;  // writes what it applies
  storage::record_partitioner partition_of;        // which records a reset erases
  // Every record of this node's store came through replication (said in position answers).
  bool only_replicated = false;
};

replica_api spawn_replica_service(caf::actor_system& sys, replica_options opts);

} // namespace parley::cluster
