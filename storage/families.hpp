// The column families of the node's RocksDB, one per record family (ARCHITECTURE.md, Storage).
// Adding a family: append it here and to family_specs() in families.cpp; missing families are
// created when the database opens, so old data directories keep working.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley::storage {

enum class family : uint8_t {
  meta,           // node identity and schema version: storage/meta_store.hpp
  messages,       // chat messages by conversation|seq: storage/chat_store.hpp
  conversations,  // chat conversation records (kind, title, members)
  memberships,    // user|conversation: the conversations of a user
  cursors,        // delivered (per device) and read (per user) cursors
  pending,        // user|conversation -> newest seq not yet acknowledged by all devices
  dedup,          // sender|conversation|client_msg_id -> the original ack, kept 24 h
  presence,       // user -> last_seen
  links,          // short key -> link (tombstones keep deleted/expired keys out of reuse)
  link_reserved,  // short keys reserved by the key pool, not yet used: storage/link_store.hpp
  link_expiry,    // expires_at|key of links with a ttl, for the background purge
  link_stats,     // short key -> click counters
  tasks,          // task id -> task record: storage/task_store.hpp
  task_keys,      // idempotency key -> task id
  task_index,     // due (shard|time|id), status (status|id) and finished (time|id) indexes
  task_runs,      // task id|run number -> one execution of the task
  posts,          // post id -> post record: storage/feed_store.hpp
  author_posts,   // author|newest-first time|post id -> fanned-out flag
  follows,        // 'o'|follower|followee and 'i'|followee|follower -> since
  feed_users,     // 'u'|user -> counts, 'a'|author -> post count, 'p'|author -> pulled author
  affinity,       // reader|author -> the reader's likes and comments on the author's posts
  likes,          // post|user
  comments,       // post|comment id -> comment
  replog,         // partition|lsn -> a replicated write's share of a partition: replication_log.hpp
  repl_applied,   // partition -> the last replicated record a backup applied
};

constexpr size_t family_count = 25;

struct family_spec {
  family id;
  std::string_view name;
  bool point_lookups;  // true: bloom filter on, tuned for Get; false: tuned for range scans
};

// All families, in the order of the enum.
const family_spec* family_specs();

// Whether `fam` holds data that replication carries (not its own log and positions, not the
// node's meta records).
bool replicated_family(family fam);

} // namespace parley::storage
