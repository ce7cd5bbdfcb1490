#include "actors/links/link_cache.hpp"

#include <functional>

namespace parley::links {

link_cache::link_cache(size_t max_entries, size_t shards)
  : per_shard_(std::max<size_t>(1, max_entries / shards)), shards_(shards) {}

link_cache::shard& link_cache::shard_of(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % shards_.size()];
}

std::optional<cached_link> link_cache::get(const std::string& key) {
  auto& s = shard_of(key);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto it = s.index.find(key);
  if (it == s.index.end())
    return std::nullopt;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->second;
}

uint64_t link_cache::epoch(const std::string& key) {
  auto& s = shard_of(key);
  std::lock_guard<std::mutex> guard{s.mtx};
  return s.epoch;
}

void link_cache::put(const std::string& key, cached_link link, uint64_t epoch) {
  auto& s = shard_of(key);
  std::lock_guard<std::mutex> guard{s.mtx};
  if (s.epoch != epoch)
    return;
  auto it = s.index.find(key);
  if (it != s.index.end()) {
    it->second->second = std::move(link);
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  s.lru.emplace_front(key, std::move(link));
  s.index.emplace(key, s.lru.begin());
  if (s.index.size() > per_shard_) {
    s.index.erase(s.lru.back().first);
    s.lru.pop_back();
  }
}

void link_cache::erase(const std::string& key) {
  auto& s = shard_of(key);
  std::lock_guard<std::mutex> guard{s.mtx};
  ++s.epoch;
  auto it = s.index.find(key);
  if (it == s.index.end())
    return;
  s.lru.erase(it->second);
  s.index.erase(it);
}

size_t link_cache::size() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{const_cast<std::mutex&>(s.mtx)};
    n += s.index.size();
  }
  return n;
}

} // namespace parley::links
