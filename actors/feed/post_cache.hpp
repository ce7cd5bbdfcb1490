// Posts by id for hydrating feeds without a storage read per item. The post shards are the
// writers: after each durable change they put the new record (or a tombstone for a deleted
// post); readers that miss load from the store and add the record only if nothing newer arrived
// meanwhile (put_if_absent), so a read racing a change never reinstates an old version (unless
// the entry was evicted in between: then counters may show the older value until the next
// change). Eviction per shard is second-chance (CLOCK) over a ring of keys: a hit is one hash
// lookup that sets a flag, with nothing relinked, because a ranked feed read hydrates hundreds of
// posts and this lookup was its hottest spot; 64 shards keep lock hold times short. Keys are the
// 20 bytes of a post id, so lookups allocate nothing.
#pragma once

#include "common/sharded_map.hpp"
#include "proto/parley.pb.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace parley::feed {

using post_ptr = std::shared_ptr<const pb::StoredPost>;

class post_cache {
public:
  explicit post_cache(size_t capacity);

  // nullopt: not cached (or not a post id); a null pointer: the post was deleted.
  std::optional<post_ptr> find(std::string_view id);
  // The record after a durable change (null: deleted).
  void put(std::string_view id, post_ptr post);
  // A record read from the store; ignored when the id is cached already.
  void put_if_absent(std::string_view id, post_ptr post);
  // In a cluster: a record this node got from the post's owner (its counters and deletion do
  // not reach this node): find() answers it until `expires_ms` (unix ms), then treats it as
  // not cached. Replaces what is cached unless that is the owner's own record.
  void put_remote(std::string_view id, post_ptr post, int64_t expires_ms);

private:
  using key = std::array<char, 20>;
  struct key_hash {
    size_t operator()(const key& k) const noexcept;
  };
  struct entry {
    post_ptr post;
    bool referenced = false;  // hit since the clock hand last passed it
    int64_t expires_ms = 0;   // a copy from another node (put_remote); 0: this node's own
  };
  struct clock_state {
    std::vector<key> ring;  // every cached key once, in the order the clock hand visits them
    size_t hand = 0;
  };
  static constexpr size_t shard_count = 64;

  static std::optional<key> to_key(std::string_view id);
  void store(std::string_view id, post_ptr post, bool overwrite, int64_t expires_ms = 0);

  size_t per_shard_;
  sharded_map<key, entry, clock_state, key_hash> posts_;
};

} // namespace parley::feed
