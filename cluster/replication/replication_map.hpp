// What replication needs of the partition map (../shared/CLUSTER.md, "Replication"): for every
// partition its epoch, primary, backup and whether the backup caught up, as etcd last said, and
// the live members. Written by the cluster member's keeper when it reads the map, read by the
// replicating writer and the replica service on their threads; lock-free to read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace parley::cluster {

struct partition_role {
  uint64_t epoch = 0;  // 0: not assigned yet
  std::string primary;
  std::string backup;
  bool backup_ready = false;
};

class replication_map {
public:
  replication_map(std::string local_node, uint32_t partitions);

  // Every partition's role (element i: partition i) and the live members.
  void update(std::vector<partition_role> roles, std::vector<std::string> live);

  // The role of `partition` now (a default one when unknown or out of range).
  partition_role role(uint32_t partition) const;
  bool live(const std::string& node) const;
  uint32_t partitions() const { return partitions_; }
  const std::string& local_node() const { return local_node_; }

private:
  struct table {
    std::vector<partition_role> roles;
    std::vector<std::string> live;
  };
  std::shared_ptr<const table> current() const;

  std::string local_node_;
  uint32_t partitions_;
  std::shared_ptr<const table> table_;  // read and swapped with std::atomic_load/store
};

} // namespace parley::cluster
