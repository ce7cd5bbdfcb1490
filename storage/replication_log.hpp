// What replication keeps on disk (docs/replication.md): the primary's log of each partition's
// replicated writes (`replog`, partition|lsn -> ReplRecord, appended in the same atomic batch
// as the data it describes, so the log never claims a write the data lacks or the reverse) and
// a backup's applied position per partition (`repl_applied`, written with the applied data).
// Also how a write set is cut into per-partition records, and how a backup applies one.
#pragma once

#include "common/result.hpp"
#include "proto/cluster_replication.pb.h"
#include "storage/engine.hpp"
#include "storage/write_set.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace parley::storage {

// The partition a record belongs to; nullopt for a node's own records (never replicated); a
// fault for a key that names no owner.
using record_partitioner =
  std::function<result<std::optional<uint32_t>>(family fam, std::string_view key)>;

// The ops of `ws` grouped by partition (in their order within each partition), as records
// without epoch and lsn; node records are left out. The partitioner's fault if any key has none.
result<std::map<uint32_t, pb::ReplRecord>> split_by_partition(const write_set& ws,
                                                              const record_partitioner& partition_of);

class replication_log {
public:
  explicit replication_log(const engine& db) : db_(db) {}

  // -- the primary's log -----------------------------------------------------------------------

  // Adds `record` (partition, epoch, lsn set) to `ws`, the batch that also writes its data.
  void append(write_set& ws, const pb::ReplRecord& record) const;

  // The newest record of `partition` in the log (its epoch and lsn); lsn 0 when none. As of
  // `at` when given.
  result<pb::ReplPosition> last(uint32_t partition, const snapshot_view* at = nullptr) const;

  // The oldest lsn of `partition` still in the log; 0 when the log holds none of it.
  result<uint64_t> first(uint32_t partition) const;

  // How much of `partition`'s log is kept: its oldest and newest lsn (0 and 0 when none) and
  // about how many bytes, from the average size of the newest `sample` records (deleted entries
  // wait for compaction, so RocksDB's own size estimates would still count trimmed records).
  struct extent {
    uint64_t first = 0;
    uint64_t last = 0;
    uint64_t bytes = 0;
  };
  result<extent> measure(uint32_t partition, size_t sample = 64) const;

  // Records of `partition` from lsn `from` on, in lsn order, until they add up to `max_bytes`
  // (always at least one when there is one).
  result<std::vector<pb::ReplRecord>> read(uint32_t partition, uint64_t from,
                                           size_t max_bytes) const;

  // Deletes `partition`'s records with lsn < `below`, at most `max_records` of them (a trim is
  // spread over several batches); how many it deleted.
  result<size_t> trim(write_set& ws, uint32_t partition, uint64_t below, size_t max_records) const;

  // -- a backup's position ---------------------------------------------------------------------

  // What this node applied of `partition`; lsn 0 and epoch 0 when nothing.
  result<pb::ReplPosition> applied(uint32_t partition) const;

  // The partition of a `replog` entry's key; a fault when the key is none.
  static result<std::optional<uint32_t>> partition_of_entry(std::string_view key);

  // Puts `at` as the applied position of its partition into `ws`.
  static void put_applied(write_set& ws, const pb::ReplPosition& at);

  // Puts `record`'s ops and the applied position it reaches into `ws`; bad_request (and nothing
  // put) when an op names a family that is not replicated.
  static fault apply(write_set& ws, const pb::ReplRecord& record);

private:
  const engine& db_;
};

} // namespace parley::storage
