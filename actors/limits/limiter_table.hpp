// The state of one rule's keys: a sharded hash table (a mutex per shard) with bounded memory.
// Keys are looked up by a 64-bit hash of (rule generation, key) so that an existing key costs
// no allocation; the key text is kept to tell the rare hash collisions apart. Idle keys (whose
// state a fresh key would equal) are swept when a shard fills and every few thousand inserts.
#pragma once

#include "actors/limits/algorithms.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

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
  struct slot {
    std::string key;
    key_state state;
  };
  struct alignas(64) shard {
    std::mutex mtx;
    std::unordered_map<uint64_t, slot> slots;
    uint32_t inserts_since_sweep = 0;
    int64_t last_full_sweep_ms = 0;
  };

  void sweep(shard& s, int64_t now_ms);

  size_t max_per_shard_;
  limit_params idle_after_;
  std::array<shard, shard_count> shards_;
  std::atomic<size_t> size_{0};
};

uint64_t hash_key(std::string_view key);

} // namespace parley::limits
