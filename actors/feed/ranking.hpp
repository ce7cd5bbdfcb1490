// Ranking of feed candidates for `mode=ranked` (docs/feed.md, Ranking). A pure function of the
// candidates, the reader's affinities and the time, so that it can be unit-tested and a page
// can be recomputed exactly for a cursor:
//   base  = (1 + affinity_w * ln(1 + affinity) + engagement_w * ln(1 + likes + 2 comments
//           + 3 shares)) * 0.5 ^ (age_hours / half_life_hours)
//   score = base * (1 - diversity_penalty) ^ k, k = posts of the same author ranked above it
// affinity = the reader's likes and comments on the author's posts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parley::feed {

// configs/node.toml [feed] ranking_* keys mirror this struct.
struct ranking_weights {
  // Hours after which recency halves a post's score. Default: 6
  double half_life_hours = 6.0;
  // Weight of the reader's affinity to the author. Default: 1.0
  double affinity = 1.0;
  // Weight of the post's engagement. Default: 0.5
  double engagement = 0.5;
  // Score lost per earlier post of the same author (0: none, 1: one post per author). Default: 0.3
  double diversity_penalty = 0.3;
};

// Views into records the caller keeps alive while ranking (no copies on the read path).
struct rank_candidate {
  std::string_view post_id;
  std::string_view author;
  int64_t created_ms = 0;
  uint64_t likes = 0;
  uint64_t comments = 0;
  uint64_t shares = 0;
};

struct ranked_item {
  size_t index;  // into the candidates
  double score;
};

// The score before the diversity penalty.
double base_score(const rank_candidate& c, uint64_t affinity, int64_t now_ms,
                  const ranking_weights& w);

// Every candidate, highest score first (ties: newer first, then larger post id).
std::vector<ranked_item> rank(const std::vector<rank_candidate>& candidates,
                              const std::unordered_map<std::string, uint64_t>& affinity,
                              int64_t now_ms, const ranking_weights& w);

} // namespace parley::feed
