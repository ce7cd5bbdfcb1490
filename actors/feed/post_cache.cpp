#include "actors/feed/post_cache.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

namespace parley::feed {

size_t post_cache::key_hash::operator()(const key& k) const noexcept {
  return std::hash<std::string_view>{}(std::string_view{k.data(), k.size()});
}

post_cache::post_cache(size_t capacity)
  : per_shard_(std::max<size_t>(1, capacity / shard_count)) {
  for (auto& s : shards_)
    s.ring.reserve(per_shard_);
}

std::optional<post_cache::key> post_cache::to_key(std::string_view id) {
  key k;
  if (id.size() != k.size())
    return std::nullopt;
  std::memcpy(k.data(), id.data(), k.size());
  return k;
}

std::optional<post_ptr> post_cache::find(std::string_view id) {
  auto k = to_key(id);
  if (!k)
    return std::nullopt;
  auto h = key_hash{}(*k);
  auto& s = shards_[h % shard_count];
  std::lock_guard guard{s.mtx};
  auto it = s.index.find(*k);
  if (it == s.index.end())
    return std::nullopt;
  it->second.referenced = true;
  return it->second.post;
}

void post_cache::store(std::string_view id, post_ptr post, bool overwrite) {
  auto k = to_key(id);
  if (!k)
    return;
  auto& s = shards_[key_hash{}(*k) % shard_count];
  std::lock_guard guard{s.mtx};
  if (auto it = s.index.find(*k); it != s.index.end()) {
    if (overwrite)
      it->second.post = std::move(post);
    it->second.referenced = true;
    return;
  }
  if (s.ring.size() < per_shard_) {
    s.ring.push_back(*k);
    s.index.emplace(*k, entry{std::move(post), false});
    return;
  }
  // Full: the hand clears flags until it finds an entry not hit since its last pass, and the
  // new key takes that entry's place in the ring.
  for (;;) {
    auto& victim = s.ring[s.hand];
    auto it = s.index.find(victim);
    if (it != s.index.end() && it->second.referenced) {
      it->second.referenced = false;
      s.hand = (s.hand + 1) % s.ring.size();
      continue;
    }
    if (it != s.index.end())
      s.index.erase(it);
    victim = *k;
    s.index.emplace(*k, entry{std::move(post), false});
    s.hand = (s.hand + 1) % s.ring.size();
    return;
  }
}

void post_cache::put(std::string_view id, post_ptr post) {
  store(id, std::move(post), true);
}

void post_cache::put_if_absent(std::string_view id, post_ptr post) {
  store(id, std::move(post), false);
}

} // namespace parley::feed
