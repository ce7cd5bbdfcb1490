#include "actors/feed/ranking.hpp"

#include <catch2/catch.hpp>

using namespace parley::feed;

namespace {

constexpr int64_t hour = 3'600'000;
constexpr int64_t now = 1'000 * hour;

rank_candidate post(const char* id, const char* author, int64_t age_ms, uint64_t likes = 0,
                    uint64_t comments = 0, uint64_t shares = 0) {
  return {id, author, now - age_ms, likes, comments, shares};
}

std::vector<std::string> order(const std::vector<rank_candidate>& cs,
                               const std::vector<ranked_item>& ranked) {
  std::vector<std::string> out;
  for (auto& r : ranked)
    out.push_back(std::string{cs[r.index].post_id});
  return out;
}

} // namespace

TEST_CASE("recency: the score halves every half-life") {
  ranking_weights w;
  auto fresh = base_score(post("a", "x", 0), 0, now, w);
  auto older = base_score(post("b", "x", 6 * hour), 0, now, w);
  CHECK(fresh == Approx(1.0));
  CHECK(older == Approx(0.5));
  // A post from the future (clock skew) is treated as brand new, not boosted.
  CHECK(base_score(post("c", "x", -hour), 0, now, w) == Approx(1.0));
}

TEST_CASE("affinity and engagement raise the score as configured") {
  ranking_weights w;
  auto plain = base_score(post("a", "x", 0), 0, now, w);
  auto liked_author = base_score(post("a", "x", 0), 3, now, w);
  CHECK(liked_author == Approx(1.0 + std::log1p(3.0)));
  auto engaged = base_score(post("a", "x", 0, 1, 1, 1), 0, now, w);
  CHECK(engaged == Approx(1.0 + 0.5 * std::log1p(1.0 + 2.0 + 3.0)));
  CHECK(plain < engaged);
  w.affinity = 0;
  w.engagement = 0;
  CHECK(base_score(post("a", "x", 0, 100, 100, 100), 50, now, w) == Approx(1.0));
}

TEST_CASE("ranking: a liked author's older post can beat a fresh stranger's") {
  std::vector<rank_candidate> cs{post("stranger", "s", 0), post("friend", "f", 2 * hour)};
  auto ranked = rank(cs, {{"f", 10}}, now, ranking_weights{});
  CHECK(order(cs, ranked) == std::vector<std::string>{"friend", "stranger"});
  // Scores come back with the items, highest first.
  CHECK(ranked[0].score > ranked[1].score);
}

TEST_CASE("diversity: one prolific author does not fill the top of the feed") {
  std::vector<rank_candidate> cs{post("a1", "a", 0), post("a2", "a", 1000), post("a3", "a", 2000),
                                 post("b1", "b", 30 * 60'000)};
  auto ranked = rank(cs, {}, now, ranking_weights{});
  auto ids = order(cs, ranked);
  CHECK(ids[0] == "a1");
  CHECK(ids[1] == "b1");  // without the penalty b1 would be last
  ranking_weights none;
  none.diversity_penalty = 0;
  CHECK(order(cs, rank(cs, {}, now, none)).back() == "b1");
  // The penalty compounds: the third post of `a` keeps (0.7)^2 of its base score.
  auto third = std::find_if(ranked.begin(), ranked.end(),
                            [&](const ranked_item& r) { return cs[r.index].post_id == "a3"; });
  CHECK(third->score == Approx(base_score(cs[2], 0, now, ranking_weights{}) * 0.49));
}

TEST_CASE("ranking is deterministic for equal scores") {
  std::vector<rank_candidate> cs{post("p1", "a", 0), post("p2", "b", 0), post("p3", "c", 0)};
  auto first = order(cs, rank(cs, {}, now, ranking_weights{}));
  CHECK(first == std::vector<std::string>{"p3", "p2", "p1"});
  CHECK(rank({}, {}, now, ranking_weights{}).empty());
}
