#include "actors/feed/post_cache.hpp"

#include <algorithm>
#include <functional>

namespace parley::feed {

post_cache::post_cache(size_t capacity)
  : per_shard_(std::max<size_t>(1, capacity / shard_count)) {}

post_cache::shard& post_cache::shard_of(const std::string& id) {
  return shards_[std::hash<std::string>{}(id) % shard_count];
}

std::optional<post_ptr> post_cache::find(const std::string& id) {
  auto& s = shard_of(id);
  std::lock_guard guard{s.mtx};
  auto it = s.index.find(id);
  if (it == s.index.end())
    return std::nullopt;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->second;
}

void post_cache::store(shard& s, const std::string& id, post_ptr post, bool overwrite) {
  std::lock_guard guard{s.mtx};
  if (auto it = s.index.find(id); it != s.index.end()) {
    if (overwrite)
      it->second->second = std::move(post);
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  s.lru.emplace_front(id, std::move(post));
  s.index.emplace(id, s.lru.begin());
  if (s.lru.size() > per_shard_) {
    s.index.erase(s.lru.back().first);
    s.lru.pop_back();
  }
}

void post_cache::put(const std::string& id, post_ptr post) {
  store(shard_of(id), id, std::move(post), true);
}

void post_cache::put_if_absent(const std::string& id, post_ptr post) {
  store(shard_of(id), id, std::move(post), false);
}

} // namespace parley::feed
