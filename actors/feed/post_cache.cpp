#include "actors/feed/post_cache.hpp"

#include "common/clock.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

namespace parley::feed {

size_t post_cache::key_hash::operator()(const key& k) const noexcept {
  return std::hash<std::string_view>{}(std::string_view{k.data(), k.size()});
}

post_cache::post_cache(size_t capacity)
  : per_shard_(std::max<size_t>(1, capacity / shard_count)), posts_(shard_count) {
  posts_.for_each_shard([&](auto& s) { s.extra.ring.reserve(per_shard_); });
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
  return posts_.with(*k, [&](auto& s) -> std::optional<post_ptr> {
    auto it = s.map.find(*k);
    if (it == s.map.end())
      return std::nullopt;
    // Only another node's copy has an expiry: the clock is read for those alone.
    if (it->second.expires_ms != 0 && unix_ms() >= it->second.expires_ms)
      return std::nullopt;
    it->second.referenced = true;
    return it->second.post;
  });
}

void post_cache::store(std::string_view id, post_ptr post, bool overwrite, int64_t expires_ms) {
  auto k = to_key(id);
  if (!k)
    return;
  posts_.with(*k, [&](auto& s) {
    auto& ring = s.extra.ring;
    auto& hand = s.extra.hand;
    if (auto it = s.map.find(*k); it != s.map.end()) {
      // A copy from another node never replaces the owner's own record; an expired copy is
      // refreshed even by a reader's fill.
      bool refresh = expires_ms != 0 ? it->second.expires_ms != 0
                                     : overwrite || (it->second.expires_ms != 0
                                                     && unix_ms() >= it->second.expires_ms);
      if (refresh) {
        it->second.post = std::move(post);
        it->second.expires_ms = expires_ms;
      }
      it->second.referenced = true;
      return;
    }
    if (ring.size() < per_shard_) {
      ring.push_back(*k);
      s.map.emplace(*k, entry{std::move(post), false, expires_ms});
      return;
    }
    // Full: the hand clears flags until it finds an entry not hit since its last pass, and the
    // new key takes that entry's place in the ring.
    for (;;) {
      auto& victim = ring[hand];
      auto it = s.map.find(victim);
      if (it != s.map.end() && it->second.referenced) {
        it->second.referenced = false;
        hand = (hand + 1) % ring.size();
        continue;
      }
      if (it != s.map.end())
        s.map.erase(it);
      victim = *k;
      s.map.emplace(*k, entry{std::move(post), false, expires_ms});
      hand = (hand + 1) % ring.size();
      return;
    }
  });
}

void post_cache::put(std::string_view id, post_ptr post) {
  store(id, std::move(post), true);
}

void post_cache::put_if_absent(std::string_view id, post_ptr post) {
  store(id, std::move(post), false);
}

void post_cache::put_remote(std::string_view id, post_ptr post, int64_t expires_ms) {
  store(id, std::move(post), false, std::max<int64_t>(expires_ms, 1));
}

} // namespace parley::feed
