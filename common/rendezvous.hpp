// Rendezvous (highest random weight) hashing: the one scoring behind every placement, of entities
// over members (actors/runtime/placement) and of partitions over members (cluster/placement).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

// The score of `member` for the item (kind, id): stable_hash of the three parts in that order.
// Part of the cluster contract (common/stable_hash.hpp): every node must rank members alike.
uint64_t rendezvous_score(std::string_view member, std::string_view kind, std::string_view id);

// Positions in a member list of the highest and second-highest score.
struct rendezvous_top {
  static constexpr size_t none = static_cast<size_t>(-1);
  size_t first = none;   // none only when there are no members
  size_t second = none;  // none with fewer than two members
};

// The best two members for (kind, id). Equal scores go to the smaller name, so the answer does
// not depend on the order of `members`. When a member leaves, only the items it ranked first or
// second change their top two; when one joins, only the items it enters the top two of.
rendezvous_top rendezvous_top_two(const std::vector<std::string>& members, std::string_view kind,
                                  std::string_view id);

} // namespace parley
