#include "common/rendezvous.hpp"

#include "common/stable_hash.hpp"

namespace parley {

uint64_t rendezvous_score(std::string_view member, std::string_view kind, std::string_view id) {
  return stable_hash{}.add(member).add(kind).add(id).value();
}

rendezvous_top rendezvous_top_two(const std::vector<std::string>& members, std::string_view kind,
                                  std::string_view id) {
  rendezvous_top top;
  uint64_t first_score = 0;
  uint64_t second_score = 0;
  // a outranks b: a higher score, or the same score and a smaller name (a total order).
  auto outranks = [&](uint64_t a_score, size_t a, uint64_t b_score, size_t b) {
    return a_score > b_score || (a_score == b_score && members[a] < members[b]);
  };
  for (size_t i = 0; i < members.size(); ++i) {
    auto s = rendezvous_score(members[i], kind, id);
    if (top.first == rendezvous_top::none || outranks(s, i, first_score, top.first)) {
      top.second = top.first;
      second_score = first_score;
      top.first = i;
      first_score = s;
    } else if (top.second == rendezvous_top::none || outranks(s, i, second_score, top.second)) {
      top.second = i;
      second_score = s;
    }
  }
  return top;
}

} // namespace parley
