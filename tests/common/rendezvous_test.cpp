#include "common/rendezvous.hpp"
#include "common/stable_hash.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace parley;

// The values below were computed once and must never change: nodes of different versions in one
// cluster, and data placed by an older version, rely on them (common/stable_hash.hpp).
TEST_CASE("the stable hash and rendezvous scores keep their published values") {
  CHECK(stable_hash{}.add("").value() == 5212313177741176414ull);
  CHECK(stable_hash{}.add("alice").value() == 8239764009801834752ull);
  CHECK(rendezvous_score("n1", "chat", "c1") == 13427323081179215997ull);
  CHECK(rendezvous_score("n2", "partition", "7") == 16332300140577094589ull);
}

TEST_CASE("hashing separates parts, so moving a byte between them changes the value") {
  CHECK(stable_hash{}.add("ab").add("c").value() != stable_hash{}.add("a").add("bc").value());
  CHECK(rendezvous_score("n1", "chat", "c1") != rendezvous_score("n1c", "hat", "c1"));
}

TEST_CASE("the top two do not depend on the order of members") {
  std::vector<std::string> members{"n1", "n2", "n3", "n4"};
  auto top = rendezvous_top_two(members, "chat", "c1");
  REQUIRE(top.second != rendezvous_top::none);
  CHECK(top.first != top.second);
  auto first = members[top.first];
  auto second = members[top.second];
  std::reverse(members.begin(), members.end());
  auto again = rendezvous_top_two(members, "chat", "c1");
  CHECK(members[again.first] == first);
  CHECK(members[again.second] == second);
}

TEST_CASE("one member is first and has no second, and no members have neither") {
  auto one = rendezvous_top_two({"n1"}, "chat", "c1");
  CHECK(one.first == 0);
  CHECK(one.second == rendezvous_top::none);
  auto none = rendezvous_top_two({}, "chat", "c1");
  CHECK(none.first == rendezvous_top::none);
}
