#include "actors/runtime/placement.hpp"

#include <cstdint>

namespace parley::runtime {

namespace {

// FNV-1a over the parts with a separator, then a 64-bit finalizer (splitmix64) so that similar
// names still spread evenly.
uint64_t score(std::string_view member, std::string_view kind, std::string_view id) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  mix(member);
  mix(kind);
  mix(id);
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

} // namespace

const std::string& owner_of(std::string_view kind, std::string_view id,
                            const std::vector<std::string>& members) {
  const std::string* best = &members.front();
  uint64_t best_score = score(*best, kind, id);
  for (size_t i = 1; i < members.size(); ++i) {
    auto s = score(members[i], kind, id);
    if (s > best_score || (s == best_score && members[i] < *best)) {
      best = &members[i];
      best_score = s;
    }
  }
  return *best;
}

std::shared_ptr<const placement_policy> local_placement() {
  struct here final : placement_policy {
    entity_location locate(std::string_view, std::string_view) const override { return {}; }
  };
  static const auto policy = std::make_shared<const here>();
  return policy;
}

} // namespace parley::runtime
