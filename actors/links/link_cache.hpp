// The redirect path's cache: a sharded LRU of resolved links in front of RocksDB, bounded by
// entry count (links.cache_entries). A hit takes one shard mutex and no allocation for keys of
// up to 15 characters (std::string's inline buffer holds every generated key).
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parley::links {

// What the redirect needs of a link.
struct cached_link {
  std::string long_url;
  int64_t expires_at_ms = 0;  // 0: never
  uint16_t redirect = 302;
  bool gone = false;  // deleted (404) or purged after expiry (410): see `expired`
  bool expired = false;
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
  struct shard {
    std::mutex mtx;
    uint64_t epoch = 0;
    std::list<std::pair<std::string, cached_link>> lru;  // most recent first
    std::unordered_map<std::string, std::list<std::pair<std::string, cached_link>>::iterator> index;
  };

  shard& shard_of(const std::string& key);

  size_t per_shard_;
  std::vector<shard> shards_;
};

} // namespace parley::links
