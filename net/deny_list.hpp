// Banned users (admin console `users ban`), in memory: checked on every token check and at every
// WebSocket upgrade, so a ban applies to the next request. Loaded from storage/ban_store.hpp at
// start-up; the admin command keeps both in step. Thread-safe; free when nobody is banned.
#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::net {

class deny_list {
public:
  // True while `user` is banned at `now_ms` (unix ms).
  bool denied(const std::string& user, int64_t now_ms) const;

  // Bans `user` until `until_ms` (unix ms; 0: until removed).
  void add(const std::string& user, int64_t until_ms);
  // True if the user was on the list.
  bool remove(const std::string& user);

  size_t size() const { return size_.load(std::memory_order_relaxed); }

private:
  mutable std::shared_mutex mtx_;
  std::unordered_map<std::string, int64_t> until_;
  std::atomic<size_t> size_{0};
};

} // namespace parley::net
