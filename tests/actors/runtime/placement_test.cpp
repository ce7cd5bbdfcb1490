#include "actors/runtime/placement.hpp"

#include <catch2/catch.hpp>

#include <map>

using parley::runtime::owner_of;

TEST_CASE("a single node owns everything") {
  std::vector<std::string> one{"n1"};
  CHECK(owner_of("chat", "c1", one) == "n1");
}

TEST_CASE("placement is deterministic and spreads entities evenly") {
  std::vector<std::string> members{"n1", "n2", "n3"};
  std::map<std::string, int> counts;
  for (int i = 0; i < 30000; ++i) {
    auto id = "conv-" + std::to_string(i);
    auto& owner = owner_of("chat", id, members);
    CHECK(owner == owner_of("chat", id, members));
    ++counts[owner];
  }
  for (auto& [member, n] : counts)
    CHECK(n == Approx(10000).epsilon(0.05));
}

TEST_CASE("when a member leaves, only its entities move") {
  std::vector<std::string> three{"n1", "n2", "n3"};
  std::vector<std::string> two{"n1", "n3"};
  for (int i = 0; i < 5000; ++i) {
    auto id = std::to_string(i);
    auto& before = owner_of("feed", id, three);
    if (before != "n2")
      CHECK(owner_of("feed", id, two) == before);
  }
}
