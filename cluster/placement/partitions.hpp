// Partitions and their owners (CLUSTER.md, "Partitions and placement"): which partition a key
// falls in, and which live members are each partition's primary and backup.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::cluster {

// The partition of an entity: stable_hash(key) % partitions (common/stable_hash.hpp: 64-bit
// FNV-1a over the key's bytes and a 0xff byte, then splitmix64). `key` is the entity id alone,
// never its kind, so that a user's feed, follows and posts (all keyed by the user id) share a
// partition. Part of the cluster and on-disk contract: replicated batches and the partition map
// in etcd carry these numbers, so every node and every version must compute the same one, and
// `partitions` (cluster.partitions) is fixed for the cluster's life. `partitions` >= 1; 0
// answers 0 rather than dividing by zero.
uint32_t partition_of(std::string_view key, uint32_t partitions);

// The members holding one partition. An empty primary: no live member (unavailable).
struct partition_owners {
  std::string primary;
  std::string backup;  // empty with fewer than two members

  friend bool operator==(const partition_owners& a, const partition_owners& b) {
    return a.primary == b.primary && a.backup == b.backup;
  }
  friend bool operator!=(const partition_owners& a, const partition_owners& b) {
    return !(a == b);
  }
};

// Rendezvous placement of partitions 0..partitions-1 over `members` (node ids in any order; a
// repeated id counts once): primary = the highest rendezvous_score(member, "partition", decimal partition number),
// backup = the second highest (common/rendezvous.hpp). Element i is partition i's owners.
// A join moves only the partitions whose top two now include the newcomer (about 2/(N+1) of
// them, 1/(N+1) of the primaries); a leave only those the leaver held, and where it was primary
// its backup becomes primary, so a failover never needs a third node's data.
std::vector<partition_owners> place_all(const std::vector<std::string>& members,
                                        uint32_t partitions);

// One partition whose primary or backup differs between two placements.
struct partition_change {
  uint32_t partition = 0;
  partition_owners before;
  partition_owners after;
};

// The partitions whose owners differ, in partition order. Placements of different sizes (never
// within one cluster) compare a missing partition as unowned.
std::vector<partition_change> changed_partitions(const std::vector<partition_owners>& before,
                                                 const std::vector<partition_owners>& after);

} // namespace parley::cluster
