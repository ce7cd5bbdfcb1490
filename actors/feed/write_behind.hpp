// Values a single-writer actor has written but the store may not have yet. The post shards and
// the follow-graph actor answer the next request on a record while the previous write of it is
// still on its way to disk (group commit); they read through this overlay first, so counters
// never go back. An entry lives until its last pending write completes. If a write fails, the
// writes built on it in memory still go out (docs/feed.md, Known limits): storage errors are
// logged and rare, and no acknowledged write is lost.
#pragma once

#include <map>

namespace parley::feed {

template <class Key, class Value>
class write_behind {
public:
  // The newest value written for `key`, or null when the store is up to date.
  const Value* find(const Key& key) const {
    auto it = slots_.find(key);
    return it == slots_.end() ? nullptr : &it->second.value;
  }

  // Records a write of `key` that is now in flight.
  void set(const Key& key, Value value) {
    auto& slot = slots_[key];
    slot.value = std::move(value);
    ++slot.pending;
  }

  // One write of `key` completed (or failed).
  void release(const Key& key) {
    auto it = slots_.find(key);
    if (it != slots_.end() && --it->second.pending <= 0)
      slots_.erase(it);
  }

  // Keys with a write in flight.
  size_t size() const { return slots_.size(); }

private:
  struct slot {
    Value value{};
    int pending = 0;
  };
  std::map<Key, slot> slots_;
};

} // namespace parley::feed
