// Options of the node's one RocksDB; configs/node.toml [storage] mirrors this struct key for key.
#pragma once

#include <cstddef>
#include <string>

namespace parley::storage {

enum class sync_mode {
  batch,   // group commit: many writers share one WriteBatch and one WAL fsync before the ack
  always,  // one fsync per writer's batch, no grouping
  none,    // no fsync: acknowledged writes may be lost on a crash (tests only)
};

// Parses "batch" | "always" | "none"; false on anything else.
bool parse_sync_mode(const std::string& text, sync_mode& out);
const char* to_string(sync_mode mode);

struct storage_options {
  // Directory of the RocksDB files; created if missing. Default: ./data
  std::string data_dir = "data";
  // Durability before an acknowledgement. Default: batch
  sync_mode sync = sync_mode::batch;
  // Shared LRU block cache for all column families, in MiB. Default: 64
  size_t block_cache_mb = 64;
  // Memtable size per column family, in MiB. Default: 32
  size_t write_buffer_mb = 32;
  // Bloom filter bits per key on families dominated by point lookups. Default: 10
  int bloom_bits_per_key = 10;
  // Most writers' batches merged into one group commit. Default: 1024
  size_t max_group_commit = 1024;
};

} // namespace parley::storage
