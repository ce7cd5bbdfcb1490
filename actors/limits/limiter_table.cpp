#include "actors/limits/limiter_table.hpp"

#include "common/metrics.hpp"

namespace parley::limits {

namespace {

constexpr uint32_t sweep_every_inserts = 4096;

metrics::gauge& keys_gauge() {
  static auto& g = metrics::global().get_gauge("ratelimit_keys",
                                               "Keys the rate limiter holds state for");
  return g;
}

} // namespace

uint64_t hash_key(std::string_view key) {
  // FNV-1a followed by a final mix (murmur3's fmix64) so shards and buckets both get good bits.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

limiter_table::limiter_table(size_t max_keys, limit_params idle_after)
  : max_per_shard_(std::max<size_t>(16, max_keys / shard_count)), idle_after_(idle_after) {}

bool limiter_table::check(std::string_view key, const limit_params& p, int64_t now_ms,
                          int64_t cost, verdict& out) {
  auto h = hash_key(key);
  auto& s = shards_[h % shard_count];
  std::lock_guard<std::mutex> guard{s.mtx};
  // Open addressing over the 64-bit hash space: a collision moves on to the next hash value.
  for (;; ++h) {
    auto it = s.slots.find(h);
    if (it == s.slots.end())
      break;
    if (it->second.key == key) {
      out = limits::check(it->second.state, p, now_ms, cost);
      return true;
    }
  }
  if (s.slots.size() >= max_per_shard_
      || ++s.inserts_since_sweep >= sweep_every_inserts) {
    sweep(s, now_ms);
    if (s.slots.size() >= max_per_shard_)
      return false;
  }
  auto& fresh = s.slots[h];
  fresh.key.assign(key.data(), key.size());
  size_.fetch_add(1, std::memory_order_relaxed);
  keys_gauge().add(1);
  out = limits::check(fresh.state, p, now_ms, cost);
  return true;
}

void limiter_table::sweep(shard& s, int64_t now_ms) {
  s.inserts_since_sweep = 0;
  // A full shard whose keys are all busy would be swept on every new key: once a second is
  // enough to notice keys going idle.
  if (s.slots.size() >= max_per_shard_ && now_ms - s.last_full_sweep_ms < 1000)
    return;
  if (s.slots.size() >= max_per_shard_)
    s.last_full_sweep_ms = now_ms;
  // Erasing a slot can break the probe chain of a colliding key (h, h+1): that key then starts
  // afresh, which is what an idle neighbour's expiry would allow anyway; collisions of 64-bit
  // hashes are rare enough that the lost state does not matter.
  for (auto it = s.slots.begin(); it != s.slots.end();) {
    if (idle(it->second.state, idle_after_, now_ms)) {
      it = s.slots.erase(it);
      size_.fetch_sub(1, std::memory_order_relaxed);
      keys_gauge().sub(1);
    } else {
      ++it;
    }
  }
}

limiter_table::~limiter_table() {
  keys_gauge().sub(static_cast<int64_t>(size()));
}

size_t limiter_table::size() const {
  return size_.load(std::memory_order_relaxed);
}

} // namespace parley::limits
