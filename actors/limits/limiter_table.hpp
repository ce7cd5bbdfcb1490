// The state of one rule's keys: a sharded open-addressing hash table (a mutex per shard) with
// bounded memory. A key is identified by a 128-bit fingerprint (two independent 64-bit hashes)
// rather than its text: no allocation for a key, one cache miss for a lookup in the common
// case, and a false match is a 2^-128 event. Idle keys (whose state a fresh key would equal)
// are swept when a shard fills and every few thousand inserts.
#pragma once

#include "actors/limits/algorithms.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace parley::limits {

class limiter_table {
public:
  static constexpr size_t shard_count = 64;

  // `idle_after` is the rule's algorithm with its longest window over all tiers: a key idle
  // under it is idle under its own tier's numbers too.
  limiter_table(size_t max_keys, limit_params idle_after);
  ~limiter_table();
  limiter_table(const limiter_table&) = delete;
  limiter_table& operator=(const limiter_table&) = delete;

  // Checks `key` against `p` at `now_ms`. False (and `out` untouched) when the key is new and
  // its shard is full even after sweeping: the caller falls back to the rule's on_error.
  bool check(std::string_view key, const limit_params& p, int64_t now_ms, int64_t cost,
             verdict& out);

  size_t size() const;

private:
  // One cache line: a lookup of an existing key costs one miss in the common case.
  struct alignas(64) slot {
    uint64_t h1 = 0;  // 0: empty
    uint64_t h2 = 0;
    key_state state;
  };
  // A spinlock, not a mutex: the critical section is a probe and a few arithmetic operations
  // (tens of nanoseconds), shorter than a futex-backed mutex's own lock and unlock. A waiter
  // that spins long (the holder was preempted, or sweeps a full shard) yields its core.
  class spinlock {
  public:
    void lock() {
      for (int spins = 0; flag_.exchange(true, std::memory_order_acquire);)
        while (flag_.load(std::memory_order_relaxed)) {
          if (++spins < 64)
            __builtin_ia32_pause();
          else
            std::this_thread::yield();
        }
    }
    void unlock() { flag_.store(false, std::memory_order_release); }

  private:
    std::atomic<bool> flag_{false};
  };

  struct alignas(64) shard {
    spinlock mtx;
    slot* slots = nullptr;  // power-of-two `capacity`, linear probing; huge-page backed
    size_t capacity = 0;
    size_t used = 0;
    uint32_t inserts_since_sweep = 0;
    int64_t last_full_sweep_ms = 0;
  };

  slot* find_or_insert(shard& s, uint64_t h1, uint64_t h2, int64_t now_ms);
  void sweep(shard& s, int64_t now_ms);
  void rehash(shard& s, size_t capacity);
  static slot* allocate(size_t capacity);
  static void release(slot* slots, size_t capacity);

  size_t max_per_shard_;
  limit_params idle_after_;
  std::array<shard, shard_count> shards_;
  std::atomic<size_t> size_{0};
};

// The 128-bit identity of a key: two independent 64-bit hashes (the first never 0).
struct fingerprint {
  uint64_t h1;
  uint64_t h2;
};

fingerprint fingerprint_of(std::string_view key);

} // namespace parley::limits
