// The storage census: what this node's RocksDB holds, counted per owner kind and, in a cluster,
// per partition, with the records of partitions whose primary is another node counted apart.
// With replication factor 1 a node holds no such "foreign" record (data lives only on its
// partition's primary); with factor 2 they are the partitions it backs up. Behind the admin command storage.partitions (cluster scope: every
// node answers its part), for operators and for the cluster tests.
//
// It reads every family from the start (a full scan), so it stops at a time budget and says
// so (`complete` false): an operator command, never a request path.
#pragma once

#include "actors/runtime/placement.hpp"
#include "common/result.hpp"
#include "storage/engine.hpp"
#include "storage/record_owner.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace parley::node {

struct storage_census {
  struct count {
    uint64_t records = 0;
    uint64_t bytes = 0;  // keys and values
  };
  count total;
  std::map<std::string, count> by_owner;   // owner kind (storage::to_string) -> count
  std::map<uint32_t, count> by_partition;  // cluster only: partition -> count
  // Cluster only: records of partitions whose primary is not this node (placement says
  // remote or unavailable), and how many such partitions.
  count foreign;
  uint32_t foreign_partitions = 0;
  uint64_t undecodable = 0;  // keys record_owner cannot read (also counted as corrupt)
  bool complete = true;      // false: the budget ran out before the last family
};

struct census_options {
  // The cluster's placement and cluster.partitions; null / 0 on a single node (no partitions).
  const runtime::placement_policy* placement = nullptr;
  uint32_t partitions = 0;
  // Wall time the scan may take. Default: 2 s (the admin console waits 3 s for a node's part)
  std::chrono::milliseconds budget{2000};
};

// Scans every family of `db`; a storage error ends it with that fault.
result<storage_census> take_storage_census(const storage::engine& db, const census_options& opts);

} // namespace parley::node
