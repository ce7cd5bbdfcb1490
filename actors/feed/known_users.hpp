// Users the follow graph already knows, so that the edge makes a user known (their first
// authenticated feed request) without a RocksDB read on an io thread: a user not in this set is
// handed to the graph actor, which reads and writes on its own thread. Bounded: a full set is
// emptied, which costs one idempotent `touch` message per user seen again.
#pragma once

#include <cstddef>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_set>

namespace parley::feed {

class known_users {
public:
  explicit known_users(size_t max_entries = 100000) : max_(max_entries) {}

  // True when `user` was not in the set (the caller then tells the graph actor).
  bool remember(const std::string& user) {
    {
      std::shared_lock guard{mtx_};
      if (users_.count(user) > 0)
        return false;
    }
    std::unique_lock guard{mtx_};
    if (users_.size() >= max_)
      users_.clear();
    return users_.insert(user).second;
  }

  size_t size() const {
    std::shared_lock guard{mtx_};
    return users_.size();
  }

private:
  size_t max_;
  mutable std::shared_mutex mtx_;
  std::unordered_set<std::string> users_;
};

} // namespace parley::feed
