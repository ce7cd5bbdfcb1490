#include "cluster/placement/partition_placement.hpp"

#include <algorithm>
#include <atomic>

namespace parley::cluster {

partition_placement::partition_placement(std::string local_node, uint32_t partitions)
  : local_node_(std::move(local_node)),
    partitions_(partitions),
    owners_(std::make_shared<const table>(table{std::vector<placed>(partitions), {}})) {
}

void partition_placement::update(std::vector<partition_owners> owners,
                                 const std::vector<std::string>& live) {
  owners.resize(partitions_);
  table fresh{std::vector<placed>(partitions_), live};
  for (uint32_t p = 0; p < partitions_; ++p) {
    auto& primary = owners[p].primary;
    auto& at = fresh.partitions[p];
    at.primary_live = !primary.empty()
                      && std::find(live.begin(), live.end(), primary) != live.end();
    at.owners = std::move(owners[p]);
  }
  std::atomic_store(&owners_, std::shared_ptr<const table>{
                                std::make_shared<const table>(std::move(fresh))});
}

std::shared_ptr<const partition_placement::table> partition_placement::current() const {
  return std::atomic_load(&owners_);
}

runtime::entity_location partition_placement::locate(std::string_view, std::string_view id) const {
  auto owners = current();
  auto& at = owners->partitions[partition_of(id, partitions_)];
  if (!at.primary_live)
    return {runtime::entity_location::where::unavailable, at.owners.primary};
  if (at.owners.primary == local_node_)
    return {};
  return {runtime::entity_location::where::remote, at.owners.primary};
}

std::vector<std::string> partition_placement::members() const {
  return current()->live;
}

partition_owners partition_placement::owners_of(uint32_t partition) const {
  auto owners = current();
  return partition < owners->partitions.size() ? owners->partitions[partition].owners
                                               : partition_owners{};
}

uint32_t partition_placement::primaries_here() const {
  auto owners = current();
  uint32_t n = 0;
  for (auto& at : owners->partitions)
    n += at.primary_live && at.owners.primary == local_node_ ? 1 : 0;
  return n;
}

uint32_t partition_placement::unavailable() const {
  auto owners = current();
  uint32_t n = 0;
  for (auto& at : owners->partitions)
    n += at.primary_live ? 0 : 1;
  return n;
}

} // namespace parley::cluster
