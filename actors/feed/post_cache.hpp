// Posts by id for hydrating feeds without a storage read per item. The post shards are the
// writers: after each durable change they put the new record (or a tombstone for a deleted
// post); readers that miss load from the store and add the record only if nothing newer arrived
// meanwhile (put_if_absent), so a read racing a change never reinstates an old version.
// LRU per shard; 64 shards keep lock hold times short.
#pragma once

#include "proto/parley.pb.h"

#include <array>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace parley::feed {

using post_ptr = std::shared_ptr<const pb::StoredPost>;

class post_cache {
public:
  explicit post_cache(size_t capacity);

  // nullopt: not cached; a null pointer: the post was deleted.
  std::optional<post_ptr> find(const std::string& id);
  // The record after a durable change (null: deleted).
  void put(const std::string& id, post_ptr post);
  // A record read from the store; ignored when the id is cached already.
  void put_if_absent(const std::string& id, post_ptr post);

private:
  struct shard {
    std::mutex mtx;
    std::list<std::pair<std::string, post_ptr>> lru;  // most recent first
    std::unordered_map<std::string, decltype(lru)::iterator> index;
  };
  static constexpr size_t shard_count = 64;

  shard& shard_of(const std::string& id);
  void store(shard& s, const std::string& id, post_ptr post, bool overwrite);

  size_t per_shard_;
  std::array<shard, shard_count> shards_;
};

} // namespace parley::feed
