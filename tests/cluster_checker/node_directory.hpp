// Where the workers reach each node: a restarted parleyd listens on a new port, and the nemesis
// (which restarts it) and the worker threads (which reconnect) must agree without sharing the
// test_cluster's process objects across threads.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace parley::test {

class node_directory {
public:
  struct endpoint {
    std::string host;
    uint16_t port = 0;
  };

  explicit node_directory(std::vector<endpoint> nodes) : nodes_(std::move(nodes)) {}

  endpoint at(uint32_t i) const {
    std::lock_guard<std::mutex> guard{mutex_};
    return nodes_.at(i);
  }
  void set_port(uint32_t i, uint16_t port) {
    std::lock_guard<std::mutex> guard{mutex_};
    nodes_.at(i).port = port;
  }

private:
  mutable std::mutex mutex_;
  std::vector<endpoint> nodes_;
};

} // namespace parley::test
