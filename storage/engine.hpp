// The node's RocksDB: opens it with one column family per record family (creating missing ones),
// applies write sets and answers point reads and range scans. The on-disk format is decided by
// the stores in storage/; nothing above storage/ sees RocksDB types.
#pragma once

#include "common/errc.hpp"
#include "storage/families.hpp"
#include "storage/storage_options.hpp"
#include "storage/write_set.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Cache;
class Snapshot;
} // namespace rocksdb

namespace parley::storage {

// The database as it was at one moment (a RocksDB snapshot): a scan through it sees no write made
// after it was taken, so records written in one atomic batch are seen all or none. Cheap to
// take; held, it keeps old versions of overwritten keys from compaction, so it is dropped as
// soon as its reader is done. Must not outlive its engine.
class snapshot_view {
public:
  snapshot_view(rocksdb::DB* db, const rocksdb::Snapshot* at) : db_(db), at_(at) {}
  ~snapshot_view();
  snapshot_view(const snapshot_view&) = delete;
  snapshot_view& operator=(const snapshot_view&) = delete;
  const rocksdb::Snapshot* get() const { return at_; }

private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* at_;
};

class engine {
public:
  // -- constructors --------------------------------------------------------------------------

  // Opens (or creates) the database under opts.data_dir. On failure `err` names the problem.
  static std::unique_ptr<engine> open(const storage_options& opts, fault& err);

  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // -- observers -----------------------------------------------------------------------------

  const storage_options& options() const { return opts_; }

  // The value of `key`, nullopt if absent; `err` is set on I/O failure.
  std::optional<std::string> get(family fam, std::string_view key, fault& err) const;

  // Calls `fn(key, value)` for keys in [from, to) in order (empty `to`: no upper bound) until it
  // returns false or `limit` entries were visited (0: no limit); as of `at` when given.
  fault scan(family fam, std::string_view from, std::string_view to,
             const std::function<bool(std::string_view, std::string_view)>& fn,
             size_t limit = 0, const snapshot_view* at = nullptr) const;

  // Same as scan, from the last key below `to` down to `from`.
  fault scan_reverse(family fam, std::string_view from, std::string_view to,
                     const std::function<bool(std::string_view, std::string_view)>& fn,
                     size_t limit = 0, const snapshot_view* at = nullptr) const;

  // The database now, for scans that must see one moment (a replication copy).
  std::shared_ptr<const snapshot_view> snapshot() const;

  // -- modifiers -----------------------------------------------------------------------------

  // Applies every op of every set in one atomic batch; `sync` fsyncs the WAL before returning.
  // Used by the group-commit writer; others go through it.
  fault write(const std::vector<const write_set*>& sets, bool sync);

  // Flushes and syncs the WAL (shutdown path).
  fault sync_wal();

private:
  engine(storage_options opts);

  rocksdb::ColumnFamilyHandle* handle(family fam) const;

  storage_options opts_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // indexed by family
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
  std::unique_ptr<rocksdb::DB> db_;
};

} // namespace parley::storage
