#include "net/deny_list.hpp"

#include <mutex>

namespace parley::net {

bool deny_list::denied(const std::string& user, int64_t now_ms) const {
  if (size_.load(std::memory_order_relaxed) == 0)
    return false;  // the usual case: no lock on the request path
  std::shared_lock<std::shared_mutex> guard{mtx_};
  auto it = until_.find(user);
  return it != until_.end() && (it->second == 0 || now_ms < it->second);
}

void deny_list::add(const std::string& user, int64_t until_ms) {
  std::unique_lock<std::shared_mutex> guard{mtx_};
  until_[user] = until_ms;
  size_.store(until_.size(), std::memory_order_relaxed);
}

bool deny_list::remove(const std::string& user) {
  std::unique_lock<std::shared_mutex> guard{mtx_};
  bool had = until_.erase(user) > 0;
  size_.store(until_.size(), std::memory_order_relaxed);
  return had;
}

} // namespace parley::net
