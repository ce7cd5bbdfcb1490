// The sharded map behind the node's shared tables: per-key work under the key's shard lock,
// per-shard bookkeeping next to the map, whole-table walks, and no lost update under threads.
#include "common/sharded_map.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

using parley::sharded_map;

TEST_CASE("a key's work sees and changes that key's shard, and size counts every shard") {
  sharded_map<std::string, int> m{8};
  CHECK(m.shard_count() == 8);
  for (int i = 0; i < 100; ++i)
    m.with(std::to_string(i), [&](auto& s) { s.map[std::to_string(i)] = i; });
  CHECK(m.size() == 100);
  CHECK(m.with("42", [](auto& s) { return s.map.at("42"); }) == 42);
  const auto& view = m;
  CHECK(view.with("7", [](auto& s) { return s.map.count("7"); }) == 1);
  CHECK(view.with("missing", [](auto& s) { return s.map.count("missing"); }) == 0);
  m.with("42", [](auto& s) { s.map.erase("42"); });
  CHECK(m.size() == 99);
}

TEST_CASE("every key lands in one shard, the same each time") {
  sharded_map<std::string, int> m{4};
  for (int i = 0; i < 64; ++i)
    m.with("k" + std::to_string(i), [&](auto& s) { s.map["k" + std::to_string(i)] = i; });
  std::set<std::string> seen;
  size_t nonempty = 0;
  m.for_each_shard([&](auto& s) {
    nonempty += !s.map.empty();
    for (auto& [k, v] : s.map)
      CHECK(seen.insert(k).second);
  });
  CHECK(seen.size() == 64);
  CHECK(nonempty > 1);  // the keys are spread, not all in one shard
  for (int i = 0; i < 64; ++i) {
    auto k = "k" + std::to_string(i);
    CHECK(m.with(k, [&](auto& s) { return s.map.count(k); }) == 1);
  }
}

TEST_CASE("per-shard extra state stays with its shard") {
  struct counter {
    int writes = 0;
  };
  sharded_map<int, int, counter> m{2};
  for (int i = 0; i < 10; ++i)
    m.with(i, [&](auto& s) {
      s.map[i] = i;
      ++s.extra.writes;
    });
  int total = 0;
  m.for_each_shard([&](auto& s) {
    CHECK(s.extra.writes == static_cast<int>(s.map.size()));
    total += s.extra.writes;
  });
  CHECK(total == 10);
}

TEST_CASE("a held shard can be released for slow work and taken again") {
  sharded_map<std::string, int> m;
  auto lock = m.lock("a");
  lock->map["a"] = 1;
  lock.unlock();
  // Unlocked: another caller gets the same shard meanwhile.
  m.with("a", [](auto& s) { s.map["a"] = 2; });
  lock.lock();
  CHECK((*lock).map.at("a") == 2);
}

TEST_CASE("a zero shard count still gives one shard") {
  sharded_map<int, int> m{0};
  CHECK(m.shard_count() == 1);
  m.with(5, [](auto& s) { s.map[5] = 5; });
  CHECK(m.size() == 1);
}

TEST_CASE("concurrent increments on shared keys are never lost") {
  sharded_map<int, long> m{4};
  constexpr int threads = 4;
  constexpr int rounds = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < rounds; ++i)
        m.with(i % 16, [&](auto& s) { ++s.map[i % 16]; });
    });
  for (auto& w : workers)
    w.join();
  long sum = 0;
  m.for_each_shard([&](auto& s) {
    for (auto& [k, v] : s.map)
      sum += v;
  });
  CHECK(sum == long{threads} * rounds);
  CHECK(m.size() == 16);
}
