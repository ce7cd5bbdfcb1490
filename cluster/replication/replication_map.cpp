#include "cluster/replication/replication_map.hpp"

#include <algorithm>
#include <atomic>

namespace parley::cluster {

replication_map::replication_map(std::string local_node, uint32_t partitions)
  : local_node_(std::move(local_node)), partitions_(partitions),
    table_(std::make_shared<const table>()) {}

void replication_map::update(std::vector<partition_role> roles, std::vector<std::string> live) {
  auto next = std::make_shared<const table>(table{std::move(roles), std::move(live)});
  std::atomic_store(&table_, std::move(next));
}

std::shared_ptr<const replication_map::table> replication_map::current() const {
  return std::atomic_load(&table_);
}

partition_role replication_map::role(uint32_t partition) const {
  auto t = current();
  return partition < t->roles.size() ? t->roles[partition] : partition_role{};
}

bool replication_map::live(const std::string& node) const {
  auto t = current();
  return std::find(t->live.begin(), t->live.end(), node) != t->live.end();
}

} // namespace parley::cluster
