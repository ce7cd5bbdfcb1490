// The records of the URL shortener (PROTOCOL.md, Links): links by key, the key pool's durable
// reservations, the expiry index and click statistics. Keys are never reused: a deleted or
// purged link leaves a tombstone, and a key counts as taken while it is reserved. Reads answer a
// result: the value, or the storage fault (unavailable, internal). A record or key that does not
// parse is a fault (internal, storage/record.hpp), never absent or skipped.
#pragma once

#include "common/errc.hpp"
#include "common/result.hpp"
#include "proto/parley.pb.h"
#include "storage/engine.hpp"

#include <optional>
#include <string>
#include <vector>

namespace parley::storage {

class link_store {
public:
  explicit link_store(engine& db) : db_(db) {}

  // True when `key` was ever used by a link (live or tombstone) or is reserved by the pool.
  result<bool> key_taken(const std::string& key) const;

  result<std::optional<pb::StoredLink>> get(const std::string& key) const;
  // Writes the link, consuming the key's reservation (if any) in the same batch.
  void put_link(write_set& ws, const std::string& key, const pb::StoredLink& link) const;
  // Replaces a live link by a tombstone in `state` (DELETED or EXPIRED).
  void put_tombstone(write_set& ws, const std::string& key, const pb::StoredLink& link,
                     pb::StoredLink::State state) const;

  void reserve(write_set& ws, const std::string& key) const;
  // Reservations left by an earlier run; no link ever used them, so they can be handed out.
  result<std::vector<std::string>> reserved_keys() const;

  // Keys of links that expired at or before `now_ms`, oldest first, at most `max`.
  result<std::vector<std::string>> expired_keys(int64_t now_ms, size_t max) const;

  // Nullopt for a link never clicked.
  result<std::optional<pb::StoredLinkStats>> get_stats(const std::string& key) const;
  void put_stats(write_set& ws, const std::string& key, const pb::StoredLinkStats& stats) const;

private:
  engine& db_;
};

} // namespace parley::storage
