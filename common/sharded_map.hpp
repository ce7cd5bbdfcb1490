// A hash map split into shards, each behind its own mutex, for the node's shared in-memory
// tables (routing, live feeds, timelines, caches): threads working on different keys rarely
// wait for each other. Callers work on a key's shard under its lock through with() or lock();
// per-shard bookkeeping that is not a map entry (an LRU list, an epoch, a CLOCK hand) lives in
// `Extra`, next to the map it describes and under the same lock.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace parley {

struct no_shard_extra {};

template <class Key, class Value, class Extra = no_shard_extra, class Hash = std::hash<Key>>
class sharded_map {
public:
  // -- member types ----------------------------------------------------------------------------

  using map_type = std::unordered_map<Key, Value, Hash>;

  struct shard {
    map_type map;
    Extra extra;
  };

  // A key's shard held locked; unlock() and lock() let a caller do slow work (a storage read)
  // in between, after which anything read from the shard must be looked up again.
  class locked {
  public:
    locked(std::mutex& mtx, shard& s) : lock_(mtx), shard_(&s) {}
    shard& operator*() const { return *shard_; }
    shard* operator->() const { return shard_; }
    void unlock() { lock_.unlock(); }
    void lock() { lock_.lock(); }

  private:
    std::unique_lock<std::mutex> lock_;
    shard* shard_;
  };

  // -- constructors ----------------------------------------------------------------------------

  explicit sharded_map(size_t shards = 16)
    : count_(shards == 0 ? 1 : shards), slots_(std::make_unique<slot[]>(count_)) {}

  // -- modifiers -------------------------------------------------------------------------------

  // Calls f(shard&) with the shard of `key` locked and returns what f returns.
  template <class F>
  decltype(auto) with(const Key& key, F&& f) {
    auto& s = slot_of(key);
    std::lock_guard<std::mutex> guard{s.mtx};
    return std::forward<F>(f)(s.data);
  }

  template <class F>
  decltype(auto) with(const Key& key, F&& f) const {
    auto& s = slot_of(key);
    std::lock_guard<std::mutex> guard{s.mtx};
    return std::forward<F>(f)(static_cast<const shard&>(s.data));
  }

  locked lock(const Key& key) {
    auto& s = slot_of(key);
    return locked{s.mtx, s.data};
  }

  // Calls f(shard&) for every shard in turn, each under its own lock: not one snapshot of the
  // whole table, as the tables' counts and sweeps need no more.
  template <class F>
  void for_each_shard(F&& f) {
    for (size_t i = 0; i < count_; ++i) {
      std::lock_guard<std::mutex> guard{slots_[i].mtx};
      f(slots_[i].data);
    }
  }

  template <class F>
  void for_each_shard(F&& f) const {
    for (size_t i = 0; i < count_; ++i) {
      std::lock_guard<std::mutex> guard{slots_[i].mtx};
      f(static_cast<const shard&>(slots_[i].data));
    }
  }

  // -- observers -------------------------------------------------------------------------------

  // Entries in all shards (each counted under its lock).
  size_t size() const {
    size_t n = 0;
    for_each_shard([&](const shard& s) { n += s.map.size(); });
    return n;
  }

  size_t shard_count() const { return count_; }

private:
  struct slot {
    mutable std::mutex mtx;
    shard data;
  };

  slot& slot_of(const Key& key) const { return slots_[Hash{}(key) % count_]; }

  size_t count_;
  std::unique_ptr<slot[]> slots_;
};

} // namespace parley
