// Watches nodes' /readyz from its own thread while something else happens (a join, a restart),
// so a test can assert that a node never stopped being ready, however briefly.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace parley::test {

class readiness_watch {
public:
  // Polls every node of `nodes` ({host, port}) every `every` until stop().
  readiness_watch(std::vector<std::pair<std::string, uint16_t>> nodes,
                  std::chrono::milliseconds every = std::chrono::milliseconds{50});
  ~readiness_watch();

  readiness_watch(const readiness_watch&) = delete;
  readiness_watch& operator=(const readiness_watch&) = delete;

  void stop();
  // Polls done so far (of every node together).
  uint64_t polls() const { return polls_; }
  // "host:port answered <status>" for every poll that was not 200.
  std::vector<std::string> not_ready() const;

private:
  std::vector<std::pair<std::string, uint16_t>> nodes_;
  std::chrono::milliseconds every_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> polls_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> not_ready_;
  std::thread thread_;
};

} // namespace parley::test
