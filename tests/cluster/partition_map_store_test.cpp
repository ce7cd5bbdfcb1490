// The partition map's compare-and-set against a real etcd: epochs start at 1 and grow by one
// per change, a stale writer loses and learns the winner, and of writers racing from the same
// epoch exactly one wins.
#include "cluster/coordinator_keys.hpp"
#include "cluster/etcd_client.hpp"
#include "cluster/partition_map_store.hpp"
#include "support/etcd_server.hpp"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

using namespace parley;
using namespace parley::cluster;
using parley::test::etcd_server;

namespace {

etcd_options reaching(const etcd_server& etcd) {
  etcd_options opts;
  opts.endpoints = {etcd.endpoint()};
  return opts;
}

// Lets `count` threads go on together (C++17 has no std::barrier).
class rendezvous {
public:
  explicit rendezvous(size_t count) : count_(count) {}

  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock{mutex_};
    auto round = round_;
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++round_;
      all_.notify_all();
      return;
    }
    all_.wait(lock, [&] { return round_ != round; });
  }

private:
  size_t count_;
  size_t arrived_ = 0;
  uint64_t round_ = 0;
  std::mutex mutex_;
  std::condition_variable all_;
};

} // namespace

TEST_CASE("a partition is created with epoch 1 and every change raises its epoch by one") {
  etcd_server etcd;
  etcd_client client{reaching(etcd)};
  partition_map_store store{client, "test"};
  auto empty = store.read_all();
  REQUIRE(empty);
  CHECK(empty->partitions.empty());

  partition_assignment absent;
  absent.partition = 7;
  auto first = store.assign(absent, "n1", "n2");
  REQUIRE(first);
  CHECK(first->won);
  CHECK(first->current.epoch == 1);
  CHECK(first->current.primary == "n1");
  CHECK(first->current.backup == "n2");
  CHECK(first->current.mod_revision > 0);

  auto second = store.assign(first->current, "n2", "");
  REQUIRE(second);
  CHECK(second->won);
  CHECK(second->current.epoch == 2);

  // A writer still holding epoch 1 loses, and learns epoch 2 and who holds it.
  auto stale = store.assign(first->current, "n3", "n1");
  REQUIRE(stale);
  CHECK_FALSE(stale->won);
  CHECK(stale->current.epoch == 2);
  CHECK(stale->current.primary == "n2");
  CHECK(stale->current.mod_revision == second->current.mod_revision);
  // So does one that thought it absent.
  auto late = store.assign(absent, "n3", "n1");
  REQUIRE(late);
  CHECK_FALSE(late->won);
  CHECK(late->current.epoch == 2);

  partition_assignment other;
  other.partition = 10;
  REQUIRE(store.assign(other, "n1", ""));
  auto map = store.read_all();
  REQUIRE(map);
  REQUIRE(map->partitions.size() == 2);
  CHECK(map->partitions[0].partition == 7);  // by number, though "10" < "7" as keys
  CHECK(map->partitions[0].epoch == 2);
  CHECK(map->partitions[1].partition == 10);
  CHECK(map->partitions[1].epoch == 1);
  CHECK(map->revision >= map->partitions[1].mod_revision);
}

TEST_CASE("of writers racing from the same epoch exactly one wins, and epochs only grow") {
  etcd_server etcd;
  constexpr size_t writers = 4;
  constexpr size_t rounds = 6;
  struct attempt {
    bool ok = false;
    bool won = false;
    uint64_t read_epoch = 0;
    uint64_t epoch_after = 0;  // written when won; the winner's when lost
    std::string primary_after;
  };
  std::vector<std::vector<attempt>> results(rounds, std::vector<attempt>(writers));
  rendezvous together{writers};
  std::vector<std::thread> threads;
  for (size_t w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      etcd_client client{reaching(etcd)};
      partition_map_store store{client, "race"};
      for (size_t r = 0; r < rounds; ++r) {
        auto& out = results[r][w];
        partition_assignment read;
        read.partition = 3;
        auto map = store.read_all();
        if (map && !map->partitions.empty())
          read = map->partitions.front();
        // Everyone has read the same record before anyone writes.
        together.arrive_and_wait();
        auto written = store.assign(read, "node-" + std::to_string(w), "");
        out.ok = map && written;
        out.read_epoch = read.epoch;
        if (written) {
          out.won = written->won;
          out.epoch_after = written->current.epoch;
          out.primary_after = written->current.primary;
        }
        together.arrive_and_wait();
      }
    });
  }
  for (auto& t : threads)
    t.join();

  uint64_t last_epoch = 0;
  for (size_t r = 0; r < rounds; ++r) {
    INFO("round " << r);
    size_t winners = 0;
    std::string winner;
    for (auto& a : results[r]) {
      REQUIRE(a.ok);
      CHECK(a.read_epoch == last_epoch);
      CHECK(a.epoch_after == last_epoch + 1);
      if (a.won) {
        ++winners;
        winner = a.primary_after;
      }
    }
    CHECK(winners == 1);
    // Losers learn the record that won.
    for (auto& a : results[r])
      CHECK(a.primary_after == winner);
    last_epoch += 1;
  }
}

TEST_CASE("a partition record that cannot be read makes the map a fault, not a hole") {
  etcd_server etcd;
  etcd_client client{reaching(etcd)};
  REQUIRE(client.put(partition_key("test", 3), "not a record"));
  partition_map_store store{client, "test"};
  auto map = store.read_all();
  REQUIRE_FALSE(map);
  CHECK(map.error().code == errc::internal);
  CHECK(map.error().message.find("/parley/test/partitions/3") != std::string::npos);
}
