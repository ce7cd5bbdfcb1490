#include "actors/feed/ranking.hpp"

#include <algorithm>
#include <cmath>

namespace parley::feed {

double base_score(const rank_candidate& c, uint64_t affinity, int64_t now_ms,
                  const ranking_weights& w) {
  double age_hours = std::max<int64_t>(0, now_ms - c.created_ms) / 3'600'000.0;
  double decay = std::pow(0.5, age_hours / w.half_life_hours);
  double engagement = static_cast<double>(c.likes) + 2.0 * static_cast<double>(c.comments)
                      + 3.0 * static_cast<double>(c.shares);
  return (1.0 + w.affinity * std::log1p(static_cast<double>(affinity))
          + w.engagement * std::log1p(engagement))
         * decay;
}

std::vector<ranked_item> rank(const std::vector<rank_candidate>& candidates,
                              const std::unordered_map<std::string, uint64_t>& affinity,
                              int64_t now_ms, const ranking_weights& w) {
  std::vector<ranked_item> out;
  out.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    auto it = affinity.empty() ? affinity.end() : affinity.find(std::string{candidates[i].author});
    out.push_back({i, base_score(candidates[i], it == affinity.end() ? 0 : it->second, now_ms, w)});
  }
  auto before = [&](const ranked_item& a, const ranked_item& b) {
    if (a.score != b.score)
      return a.score > b.score;
    auto& ca = candidates[a.index];
    auto& cb = candidates[b.index];
    if (ca.created_ms != cb.created_ms)
      return ca.created_ms > cb.created_ms;
    return ca.post_id > cb.post_id;
  };
  std::sort(out.begin(), out.end(), before);
  // Diversity: the k-th post of an author in base order loses (1 - penalty)^k, which breaks up
  // runs of one prolific author without hiding them.
  std::unordered_map<std::string_view, int> seen;
  seen.reserve(candidates.size());
  double keep = 1.0 - std::clamp(w.diversity_penalty, 0.0, 1.0);
  for (auto& item : out) {
    int k = seen[candidates[item.index].author]++;
    item.score *= std::pow(keep, k);
  }
  std::stable_sort(out.begin(), out.end(), before);
  return out;
}

} // namespace parley::feed
