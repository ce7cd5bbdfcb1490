// The redirect path's cache: a sharded LRU of resolved links in front of RocksDB, bounded by
// entry count (links.cache_entries). A hit takes one shard mutex and no allocation for keys of
// up to 15 characters (std::string's inline buffer holds every generated key).
#pragma once

#include "common/sharded_map.hpp"

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>

namespace parley::links {

// What the redirect needs of a link.
struct cached_link {
  std::string long_url;
  int64_t expires_at_ms = 0;  // 0: never
  uint16_t redirect = 302;
  bool gone = false;  // deleted (404) or purged after expiry (410): see `expired`
  bool expired = false;
  // In a cluster, for a link another node owns: when to ask the owner again (unix ms; 0: the
  // entry stays until evicted or erased).
  int64_t refresh_after_ms = 0;
};

class link_cache {
public:
  explicit link_cache(size_t max_entries, size_t shards = 16);

  std::optional<cached_link> get(const std::string& key);
  // The invalidation epoch of `key`'s shard: read it before loading a link from storage and
  // pass it to put, which then skips the entry if an erase ran in between (a delete racing a
  // redirect can not leave the old link cached).
  uint64_t epoch(const std::string& key);
  void put(const std::string& key, cached_link link, uint64_t epoch);
  void erase(const std::string& key);
  size_t size() const;

private:
  using lru_list = std::list<std::pair<std::string, cached_link>>;  // most recent first
  struct shard_extra {
    uint64_t epoch = 0;
    lru_list lru;
  };

  size_t per_shard_;
  // key -> its place in the shard's LRU list.
  sharded_map<std::string, lru_list::iterator, shard_extra> links_;
};

} // namespace parley::links
