#include "actors/links/link_cache.hpp"

#include <algorithm>

namespace parley::links {

link_cache::link_cache(size_t max_entries, size_t shards)
  : per_shard_(std::max<size_t>(1, max_entries / shards)), links_(shards) {}

std::optional<cached_link> link_cache::get(const std::string& key) {
  return links_.with(key, [&](auto& s) -> std::optional<cached_link> {
    auto it = s.map.find(key);
    if (it == s.map.end())
      return std::nullopt;
    auto& lru = s.extra.lru;
    lru.splice(lru.begin(), lru, it->second);
    return it->second->second;
  });
}

uint64_t link_cache::epoch(const std::string& key) {
  return links_.with(key, [](auto& s) { return s.extra.epoch; });
}

void link_cache::put(const std::string& key, cached_link link, uint64_t epoch) {
  links_.with(key, [&](auto& s) {
    if (s.extra.epoch != epoch)
      return;
    auto& lru = s.extra.lru;
    auto it = s.map.find(key);
    if (it != s.map.end()) {
      it->second->second = std::move(link);
      lru.splice(lru.begin(), lru, it->second);
      return;
    }
    lru.emplace_front(key, std::move(link));
    s.map.emplace(key, lru.begin());
    if (s.map.size() > per_shard_) {
      s.map.erase(lru.back().first);
      lru.pop_back();
    }
  });
}

void link_cache::erase(const std::string& key) {
  links_.with(key, [&](auto& s) {
    ++s.extra.epoch;
    auto it = s.map.find(key);
    if (it == s.map.end())
      return;
    s.extra.lru.erase(it->second);
    s.map.erase(it);
  });
}

size_t link_cache::size() const {
  return links_.size();
}

} // namespace parley::links
