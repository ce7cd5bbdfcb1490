// A whole partition's records, for a backup that cannot catch up from the replication log (it is
// new, its copy diverged, or the log was trimmed past it; docs/replication.md, "Catch-up"):
// partition_copy reads them from a snapshot in chunks, so that the copy is one moment of the
// partition (the log position that moment had included) however long it takes to ship, and
// erase_partition deletes a partition's records before a copy arrives.
//
// Keys do not start with their partition: both visit every replicated family whole and keep
// the keys `partition_of` maps to the partition (the partitioner decides, as for the log).
#pragma once

#include "common/result.hpp"
#include "proto/cluster_replication.pb.h"
#include "storage/engine.hpp"
#include "storage/replication_log.hpp"
#include "storage/write_set.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace parley::storage {

class partition_copy {
public:
  // Takes the snapshot now; `end` is the partition's log position in it (lsn 0: no log yet).
  static result<partition_copy> start(const engine& db, uint32_t partition,
                                      record_partitioner partition_of);

  struct chunk {
    std::vector<pb::ReplOp> ops;
    bool done = false;  // the last chunk: every record of the partition was in one
  };

  // The next records of the partition, up to about `max_bytes` of keys and values, visiting at
  // most `max_visits` keys of any partition (a large store is read a slice per call, so a
  // caller on an actor thread answers other messages in between).
  result<chunk> next(size_t max_bytes, size_t max_visits);

  uint32_t partition() const { return partition_; }
  const pb::ReplPosition& end() const { return end_; }
  uint64_t records() const { return records_; }
  uint64_t bytes() const { return bytes_; }

private:
  partition_copy(const engine& db, uint32_t partition, record_partitioner partition_of,
                 std::shared_ptr<const snapshot_view> at, pb::ReplPosition end)
    : db_(&db), partition_(partition), partition_of_(std::move(partition_of)), at_(std::move(at)),
      end_(std::move(end)) {}

  const engine* db_;
  uint32_t partition_;
  record_partitioner partition_of_;
  std::shared_ptr<const snapshot_view> at_;
  pb::ReplPosition end_;
  size_t family_index_ = 0;  // into family_specs()
  std::string next_key_;     // where the family's scan goes on
  uint64_t records_ = 0;
  uint64_t bytes_ = 0;
};

// Puts a delete of every record of `partition` (replication log and applied position included)
// into `ws`; the partitioner's fault if a key names no owner.
fault erase_partition(const engine& db, uint32_t partition,
                      const record_partitioner& partition_of, write_set& ws);

} // namespace parley::storage
