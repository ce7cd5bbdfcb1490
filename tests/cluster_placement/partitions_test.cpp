#include "cluster/placement/partitions.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>

using namespace parley::cluster;

namespace {

constexpr uint32_t partitions = 256;

// Two ways operators name nodes, so that no property holds by the luck of one naming.
std::vector<std::string> members(int n, bool addresses) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i)
    out.push_back(addresses ? "127.0.0." + std::to_string(i) + ":9080" : "n" + std::to_string(i));
  return out;
}

// With an ideal hash, how many of `partitions` land on one of k equally likely outcomes is
// Binomial(partitions, 1/k). Four standard deviations miss a fair outcome with probability
// 6e-5, so a count outside them says the hash is biased, not unlucky (the hash is fixed, so a
// passing count passes forever).
bool near_share(size_t count, double k) {
  double p = 1.0 / k;
  double mean = partitions * p;
  double sd = std::sqrt(partitions * p * (1 - p));
  INFO("count " << count << ", expected " << mean << " +- " << 4 * sd);
  return std::abs(double(count) - mean) <= 4 * sd;
}

} // namespace

TEST_CASE("partition numbers are pinned: the same on every node and in every version") {
  CHECK(partition_of("alice", 256) == 0);
  CHECK(partition_of("bob", 256) == 240);
  CHECK(partition_of("conv-1", 256) == 69);
  CHECK(partition_of("L8xk2", 256) == 162);
  auto pinned = place_all({"n1", "n2", "n3"}, 8);
  std::vector<partition_owners> expected{{"n2", "n3"}, {"n1", "n3"}, {"n1", "n2"}, {"n3", "n2"},
                                         {"n3", "n2"}, {"n2", "n1"}, {"n3", "n2"}, {"n2", "n3"}};
  CHECK(pinned == expected);
}

TEST_CASE("keys spread evenly over partitions and stay within range") {
  std::vector<int> counts(partitions);
  uint32_t highest = 0;
  for (int i = 0; i < 256000; ++i) {
    auto p = partition_of("user-" + std::to_string(i), partitions);
    highest = std::max(highest, p);
    ++counts[std::min(p, partitions - 1)];
  }
  CHECK(highest < partitions);
  auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
  // Binomial(256000, 1/256): mean 1000, sd 31.6; +-5 sd over 256 buckets.
  CHECK(*lo >= 840);
  CHECK(*hi <= 1160);
  CHECK(partition_of("anything", 1) == 0);
  CHECK(partition_of("anything", 0) == 0);
}

TEST_CASE("placement is deterministic and ignores the order of members") {
  auto forward = members(4, false);
  auto backward = forward;
  std::reverse(backward.begin(), backward.end());
  CHECK(place_all(forward, partitions) == place_all(forward, partitions));
  CHECK(place_all(forward, partitions) == place_all(backward, partitions));
  auto twice = forward;
  twice.push_back("n2");  // a repeated member is one member, never its own backup
  CHECK(place_all(twice, partitions) == place_all(forward, partitions));
}

TEST_CASE("one member is primary of every partition, with no backup") {
  for (auto& owners : place_all({"n1"}, partitions)) {
    CHECK(owners.primary == "n1");
    CHECK(owners.backup.empty());
  }
  for (auto& owners : place_all({}, 4))
    CHECK(owners == partition_owners{});
}

TEST_CASE("with two or more members the backup is another member, and shares are near 1/N") {
  for (bool addresses : {false, true})
    for (int n = 2; n <= 5; ++n) {
      INFO(n << " members, addresses " << addresses);
      std::map<std::string, size_t> primaries;
      std::map<std::string, size_t> backups;
      for (auto& owners : place_all(members(n, addresses), partitions)) {
        CHECK(!owners.backup.empty());
        CHECK(owners.backup != owners.primary);
        ++primaries[owners.primary];
        ++backups[owners.backup];
      }
      CHECK(primaries.size() == size_t(n));
      for (auto& [member, count] : primaries)
        CHECK(near_share(count, n));
      for (auto& [member, count] : backups)
        CHECK(near_share(count, n));
    }
}

TEST_CASE("a join moves about 1/(N+1) of primaries, all to the newcomer") {
  for (bool addresses : {false, true})
    for (int n = 2; n <= 5; ++n) {
      INFO(n << " members join a new one, addresses " << addresses);
      auto after_members = members(n + 1, addresses);
      auto& newcomer = after_members.back();
      auto before = place_all(members(n, addresses), partitions);
      auto after = place_all(after_members, partitions);
      size_t moved_primaries = 0;
      for (auto& change : changed_partitions(before, after)) {
        // Every change involves the newcomer: no primary or backup moves between old members.
        CHECK((change.after.primary == newcomer || change.after.backup == newcomer));
        if (change.before.primary != change.after.primary) {
          CHECK(change.after.primary == newcomer);
          // The old primary keeps the data as the new backup.
          CHECK(change.after.backup == change.before.primary);
          ++moved_primaries;
        }
      }
      CHECK(near_share(moved_primaries, n + 1));
    }
}

TEST_CASE("a leave moves only the leaver's partitions, and its backups take over") {
  for (int n = 3; n <= 6; ++n)
    for (int gone = 0; gone < n; ++gone) {
      auto all = members(n, false);
      auto leaver = all[size_t(gone)];
      auto rest = all;
      rest.erase(rest.begin() + gone);
      INFO(leaver << " leaves " << n << " members");
      auto before = place_all(all, partitions);
      auto after = place_all(rest, partitions);
      size_t held = 0;
      for (uint32_t p = 0; p < partitions; ++p)
        held += before[p].primary == leaver || before[p].backup == leaver;
      auto changes = changed_partitions(before, after);
      CHECK(changes.size() == held);
      for (auto& change : changes) {
        REQUIRE((change.before.primary == leaver || change.before.backup == leaver));
        if (change.before.primary == leaver)
          CHECK(change.after.primary == change.before.backup);
        else
          CHECK(change.after.primary == change.before.primary);
        CHECK(change.after.backup != leaver);
      }
    }
}

TEST_CASE("changed_partitions lists each differing partition with its owners before and after") {
  std::vector<partition_owners> before{{"n1", "n2"}, {"n2", "n1"}, {"n1", "n2"}};
  std::vector<partition_owners> after{{"n1", "n2"}, {"n2", "n3"}, {"n3", "n1"}};
  auto changes = changed_partitions(before, after);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].partition == 1);
  CHECK(changes[0].before == partition_owners{"n2", "n1"});
  CHECK(changes[0].after == partition_owners{"n2", "n3"});
  CHECK(changes[1].partition == 2);
  CHECK(changed_partitions(after, after).empty());
  // A partition missing on one side counts as unowned there.
  auto grown = after;
  grown.push_back({"n1", ""});
  auto extra = changed_partitions(after, grown);
  REQUIRE(extra.size() == 1);
  CHECK(extra[0].partition == 3);
  CHECK(extra[0].before == partition_owners{});
}
