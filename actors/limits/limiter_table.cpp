#include "actors/limits/limiter_table.hpp"

#include "common/metrics.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace parley::limits {

namespace {

constexpr uint32_t sweep_every_inserts = 4096;
constexpr size_t initial_capacity = 64;

metrics::gauge& keys_gauge() {
  static auto& g = metrics::global().get_gauge("ratelimit_keys",
                                               "Keys the rate limiter holds state for");
  return g;
}

} // namespace

namespace {

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

} // namespace

fingerprint fingerprint_of(std::string_view key) {
  // One pass, eight bytes at a time, two independent lanes: keys are short (addresses, user
  // ids) and hashing is a visible share of a check.
  uint64_t a = 0x9e3779b97f4a7c15ULL ^ key.size();
  uint64_t b = 0xc2b2ae3d27d4eb4fULL + key.size();
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, key.data() + i, 8);
    a = (a ^ w) * 0xff51afd7ed558ccdULL;
    a ^= a >> 32;
    b = (b + w) * 0xc4ceb9fe1a85ec53ULL;
    b ^= b >> 29;
  }
  uint64_t tail = 0;
  for (size_t shift = 0; i < key.size(); ++i, shift += 8)
    tail |= uint64_t{static_cast<unsigned char>(key[i])} << shift;
  a = mix((a ^ tail) * 0xff51afd7ed558ccdULL);
  b = mix((b + tail) * 0xc4ceb9fe1a85ec53ULL);
  return {a | 1, b};  // h1 is never 0, the empty marker
}

limiter_table::limiter_table(size_t max_keys, limit_params idle_after)
  : max_per_shard_(std::max<size_t>(16, max_keys / shard_count)), idle_after_(idle_after) {}

limiter_table::~limiter_table() {
  keys_gauge().sub(static_cast<int64_t>(size()));
  for (auto& s : shards_)
    release(s.slots, s.capacity);
}

limiter_table::slot* limiter_table::allocate(size_t capacity) {
  // Large shards ask for transparent huge pages: a million keys spread over hundreds of MB
  // would otherwise pay a TLB miss on top of the cache miss of every lookup.
  constexpr size_t huge = size_t{2} << 20;
  auto bytes = capacity * sizeof(slot);
  auto align = bytes >= huge ? huge : alignof(slot);
  bytes = (bytes + align - 1) / align * align;
  void* mem = std::aligned_alloc(align, bytes);
  if (!mem)
    throw std::bad_alloc{};
  if (align == huge)
    madvise(mem, bytes, MADV_HUGEPAGE);
  auto* slots = static_cast<slot*>(mem);
  for (size_t i = 0; i < capacity; ++i)
    new (slots + i) slot{};
  return slots;
}

void limiter_table::release(slot* slots, size_t capacity) {
  if (!slots)
    return;
  for (size_t i = 0; i < capacity; ++i)
    slots[i].~slot();
  std::free(slots);
}

bool limiter_table::check(std::string_view key, const limit_params& p, int64_t now_ms,
                          int64_t cost, verdict& out) {
  auto [h1, h2] = fingerprint_of(key);
  auto& s = shards_[(h1 >> 58) % shard_count];  // high bits: the low ones pick the slot
  std::lock_guard<spinlock> guard{s.mtx};
  auto* entry = find_or_insert(s, h1, h2, now_ms);
  if (!entry)
    return false;
  out = limits::check(entry->state, p, now_ms, cost);
  return true;
}

limiter_table::slot* limiter_table::find_or_insert(shard& s, uint64_t h1, uint64_t h2,
                                                   int64_t now_ms) {
  if (s.capacity > 0) {
    auto mask = s.capacity - 1;
    for (auto i = h1 & mask;; i = (i + 1) & mask) {
      auto& e = s.slots[i];
      if (e.h1 == h1 && e.h2 == h2)
        return &e;
      if (e.h1 == 0)
        break;
    }
  }
  if (s.used >= max_per_shard_ || ++s.inserts_since_sweep >= sweep_every_inserts) {
    sweep(s, now_ms);
    if (s.used >= max_per_shard_)
      return nullptr;
  }
  // Load factor at most 1/2 keeps probe sequences short.
  if ((s.used + 1) * 2 > s.capacity)
    rehash(s, std::max(initial_capacity, s.capacity * 2));
  auto mask = s.capacity - 1;
  auto i = h1 & mask;
  while (s.slots[i].h1 != 0)
    i = (i + 1) & mask;
  auto& e = s.slots[i];
  e.h1 = h1;
  e.h2 = h2;
  e.state = key_state{};
  ++s.used;
  size_.fetch_add(1, std::memory_order_relaxed);
  keys_gauge().add(1);
  return &e;
}

void limiter_table::rehash(shard& s, size_t capacity) {
  auto* old = s.slots;
  auto old_capacity = s.capacity;
  s.slots = allocate(capacity);
  s.capacity = capacity;
  auto mask = capacity - 1;
  for (size_t j = 0; j < old_capacity; ++j) {
    auto& e = old[j];
    if (e.h1 == 0)
      continue;
    auto i = e.h1 & mask;
    while (s.slots[i].h1 != 0)
      i = (i + 1) & mask;
    s.slots[i] = std::move(e);
  }
  release(old, old_capacity);
}

void limiter_table::sweep(shard& s, int64_t now_ms) {
  s.inserts_since_sweep = 0;
  // A full shard whose keys are all busy would be swept on every new key: once a second is
  // enough to notice keys going idle.
  bool full = s.used >= max_per_shard_;
  if (full && now_ms - s.last_full_sweep_ms < 1000)
    return;
  if (full)
    s.last_full_sweep_ms = now_ms;
  size_t idle_count = 0;
  for (size_t i = 0; i < s.capacity; ++i) {
    auto& e = s.slots[i];
    if (e.h1 != 0 && idle(e.state, idle_after_, now_ms)) {
      e.h1 = 0;  // dropped; the rehash below closes the probe chains
      e.state = key_state{};
      ++idle_count;
    }
  }
  if (idle_count == 0)
    return;
  s.used -= idle_count;
  size_.fetch_sub(idle_count, std::memory_order_relaxed);
  keys_gauge().sub(static_cast<int64_t>(idle_count));
  rehash(s, s.capacity);
}

size_t limiter_table::size() const {
  return size_.load(std::memory_order_relaxed);
}

} // namespace parley::limits
