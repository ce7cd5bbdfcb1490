// Watches the partition map in etcd for the whole run (polling, on a thread of its own) and
// keeps each partition's history of (epoch, primary): the checker fails a run in which a
// partition's epoch went backwards or one epoch named two different primaries (two nodes could
// then both acknowledge writes in one epoch). Never uses Catch2 on its thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

class epoch_watch {
public:
  struct step {
    uint64_t epoch = 0;
    std::string primary;
    std::string backup;
    bool backup_ready = false;
    std::chrono::steady_clock::time_point seen;  // first poll that read it
  };

  // Reads the map of cluster `cluster_id` from etcd at `endpoint` every `interval`.
  epoch_watch(std::string endpoint, std::string cluster_id, std::chrono::milliseconds interval);
  ~epoch_watch();
  epoch_watch(const epoch_watch&) = delete;
  epoch_watch& operator=(const epoch_watch&) = delete;

  void stop();

  // -- observers (after stop()) --

  uint64_t polls() const { return polls_; }
  uint64_t failed_polls() const { return failed_polls_; }
  // Per partition, every distinct record seen, in order.
  const std::map<uint32_t, std::vector<step>>& history() const { return history_; }
  // Epochs going backwards, or two primaries in one epoch; empty when none.
  const std::vector<std::string>& violations() const { return violations_; }
  // Changes of epoch seen over all partitions.
  uint64_t epoch_changes() const;

private:
  void run();
  void observe(uint32_t partition, step s);

  std::string endpoint_;
  std::string cluster_id_;
  std::chrono::milliseconds interval_;
  uint64_t polls_ = 0;
  uint64_t failed_polls_ = 0;
  std::map<uint32_t, std::vector<step>> history_;
  std::map<std::pair<uint32_t, uint64_t>, std::string> primary_of_epoch_;
  std::vector<std::string> violations_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace parley::test
