#include "cluster/placement/partitions.hpp"

#include "common/rendezvous.hpp"
#include "common/stable_hash.hpp"

#include <algorithm>

namespace parley::cluster {

uint32_t partition_of(std::string_view key, uint32_t partitions) {
  if (partitions == 0)
    return 0;
  return static_cast<uint32_t>(stable_hash{}.add(key).value() % partitions);
}

std::vector<partition_owners> place_all(const std::vector<std::string>& members_in,
                                        uint32_t partitions) {
  // A member listed twice would otherwise be its own backup.
  auto members = members_in;
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::vector<partition_owners> out(partitions);
  if (members.empty())
    return out;
  for (uint32_t p = 0; p < partitions; ++p) {
    auto top = rendezvous_top_two(members, "partition", std::to_string(p));
    out[p].primary = members[top.first];
    if (top.second != rendezvous_top::none)
      out[p].backup = members[top.second];
  }
  return out;
}

std::vector<partition_change> changed_partitions(const std::vector<partition_owners>& before,
                                                 const std::vector<partition_owners>& after) {
  static const partition_owners unowned;
  std::vector<partition_change> out;
  auto n = std::max(before.size(), after.size());
  for (size_t p = 0; p < n; ++p) {
    auto& b = p < before.size() ? before[p] : unowned;
    auto& a = p < after.size() ? after[p] : unowned;
    if (a != b)
      out.push_back({static_cast<uint32_t>(p), b, a});
  }
  return out;
}

} // namespace parley::cluster
