// The registry's placement in a cluster (actors/runtime/placement.hpp): an entity lives on the
// primary of its partition (partition_of its id) while that primary is a live member; a
// partition whose primary is down, or that has none yet, is unavailable. The owners (the
// partition map in etcd) and the live members are swapped in together, so that every resolve
// sees one consistent placement. Lock-free to read from any thread.
#pragma once

#include "actors/runtime/placement.hpp"
#include "cluster/placement/partitions.hpp"

#include <memory>
#include <string>
#include <vector>

namespace parley::cluster {

class partition_placement final : public runtime::placement_policy {
public:
  // Until the first update, nothing has an owner: every entity is unavailable.
  partition_placement(std::string local_node, uint32_t partitions);

  // The owners of every partition (element i: partition i; a missing or empty primary: not
  // assigned yet) and the members alive now.
  void update(std::vector<partition_owners> owners, const std::vector<std::string>& live);

  runtime::entity_location locate(std::string_view kind, std::string_view id) const override;
  std::vector<std::string> members() const override;

  // The owners of one partition now (primary empty: none).
  partition_owners owners_of(uint32_t partition) const;
  // Partitions whose primary is this node.
  uint32_t primaries_here() const;
  // Partitions that are not served now: no primary yet, or a primary that is down.
  uint32_t unavailable() const;
  uint32_t partitions() const { return partitions_; }
  const std::string& local_node() const { return local_node_; }

private:
  struct placed {
    partition_owners owners;
    bool primary_live = false;
  };
  struct table {
    std::vector<placed> partitions;
    std::vector<std::string> live;
  };

  std::shared_ptr<const table> current() const;

  std::string local_node_;
  uint32_t partitions_;
  std::shared_ptr<const table> owners_;  // read and swapped with std::atomic_load/store
};

} // namespace parley::cluster
