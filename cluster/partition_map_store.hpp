// The partition map as etcd holds it (coordinator side of placement): one key per partition,
// /parley/<cluster_id>/partitions/<p> = {partition, epoch, primary, backup}. Every change is a
// compare-and-set on the record's mod_revision that raises the epoch by one, so that of two
// nodes deciding from the same map only one wins, and epochs only grow.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace parley::cluster {

class etcd_client;

struct partition_assignment {
  uint32_t partition = 0;
  uint64_t epoch = 0;        // 1 for the first assignment; 0: never assigned
  std::string primary;       // node_id
  std::string backup;        // node_id; empty while the partition has none
  bool backup_ready = false; // the backup caught up: it may take over (replication)
  int64_t mod_revision = 0;  // etcd's revision of the record; 0: no record
};

struct partition_map {
  std::vector<partition_assignment> partitions;  // by partition; absent ones are missing
  int64_t revision = 0;  // the etcd revision the map was read at
};

struct partition_write {
  bool won = false;
  // Won: the record as written, with its new mod_revision. Lost: the record etcd holds now
  // (mod_revision 0 when there is none).
  partition_assignment current;
};

class partition_map_store {
public:
  // -- constructors --

  // Calls go through `client` (on its caller's thread), which must outlive the store.
  partition_map_store(etcd_client& client, std::string cluster_id);

  // -- observers --

  // Every assigned partition. A record that cannot be read is an internal fault, never
  // skipped: placement must not act on a map with holes it cannot see.
  result<partition_map> read_all();

  // -- modifiers --

  // Assigns `previous.partition` to `primary` and `backup` if its record is still `previous`
  // (as read: same mod_revision; mod_revision 0 means "absent"), with epoch previous.epoch + 1
  // (1 when absent). A lost race is no fault: `won` false with what won. `backup_ready` says
  // the backup holds every acknowledged write (never true without a backup).
  result<partition_write> assign(const partition_assignment& previous, std::string primary,
                                 std::string backup, bool backup_ready = false);

private:
  etcd_client& client_;
  std::string cluster_id_;
};

} // namespace parley::cluster
