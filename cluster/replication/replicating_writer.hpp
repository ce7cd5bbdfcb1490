// The storage writer of a node whose partitions replicate (cluster.replication_factor = 2;
// docs/replication.md). It speaks runtime::storage_writer_api like the plain writer, so entities
// do not change: a write set is cut into its partitions' shares (node records stay local), each
// share gets the partition's next lsn and goes into the replication log in the same atomic batch
// as the data; once durable here the records are shipped to each partition's backup (batched per
// backup, one batch in flight per backup, in lsn order), and the write is acknowledged when every
// backup that counts has them durable too.
//
// Who counts: the backup the partition map names with `backup_ready` (it caught up). A backup
// still catching up receives everything but is not waited for; a partition without a backup (its
// backup lost, the map moved on) acknowledges alone: degraded, counted and logged. A write for a
// partition whose primary is not this node is refused (`unavailable`): an entity left behind by
// a move never writes in a partition it lost.
//
// Catching up: the first time a backup is shipped to for a partition, it is asked where it stands;
// if its last record is on this node's log (same lsn, same epoch) and the log still holds the
// next one, the log goes on from there; so it does from lsn 1 for a backup that holds nothing
// of the partition when this node's log is complete from lsn 1. Otherwise (a diverged copy, a
// log trimmed past it, data from before replication) it is reset and the partition's records
// are copied to it from a snapshot, slice by slice, then the log goes on after the snapshot's
// position. Catch-up reads (old records from
// the log, copy slices) are paced to `catch_up_bytes_per_sec`. When the backup has everything
// written so far, `caught_up` is called (the cluster member records backup_ready in etcd).
//
// The log is trimmed every `trim_interval` to about `log_bytes` per partition, keeping what a
// backup still reading it needs unless the log grew to four times that.
#pragma once

#include "actors/runtime/storage_writer.hpp"
#include "cluster/replication/replication_map.hpp"
#include "storage/engine.hpp"
#include "storage/group_commit_writer.hpp"
#include "storage/replication_log.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace parley::cluster {

struct replicating_writer_options {
  std::shared_ptr<const replication_map> map;
  storage::engine* db = nullptr;
  storage::group_commit_writer* writer = nullptr;
  storage::record_partitioner partition_of;
  runtime::write_fence fence;
  // Deadline of one batch to a backup, and the pause before shipping again after a failure.
  // Default: 2000 ms, 200 ms
  std::chrono::milliseconds batch_deadline{2000};
  std::chrono::milliseconds retry_delay{200};
  // Most bytes of records in one batch (and of one copy slice). Default: 1 MiB
  size_t max_batch_bytes = 1 << 20;
  // Bytes of log kept per partition (cluster.replication_log_bytes; 0: never trimmed), and how
  // often the log is measured. Default: 64 MiB, 5000 ms
  uint64_t log_bytes = uint64_t{64} << 20;
  std::chrono::milliseconds trim_interval{5000};
  // Pace of catch-up reads per node (cluster.replication_catch_up_bytes_per_sec; 0: unpaced).
  // Default: 64 MiB/s
  uint64_t catch_up_bytes_per_sec = uint64_t{64} << 20;
  // Keys of the store a copy visits per slice at most (keys of other partitions included).
  // Default: 20000
  size_t copy_visits_per_slice = 20000;
  // Every record of this node's store came through replication (its logs are complete from
  // lsn 1 where they start there): a backup that holds none of a partition is brought up from
  // the log, without a copy. Default: false
  bool only_replicated = false;
  // Called on the writer's thread when `backup` holds everything of `partition` written so far.
  std::function<void(uint32_t partition, const std::string& backup)> caught_up;
};

// The writer ships nothing before it gets the peer link: (peer_link_atom, caf::actor), and
// hears of every change of the partition map: (map_changed_atom).
runtime::storage_writer_api spawn_replicating_writer(caf::actor_system& sys,
                                                     replicating_writer_options opts);

} // namespace parley::cluster
