// A RocksDB engine in a fresh temporary directory, for tests that need real storage.
#pragma once

#include "storage/engine.hpp"
#include "storage/write_set.hpp"
#include "support/temp_dir.hpp"

#include <functional>
#include <memory>

namespace parley::test {

struct temp_db {
  temp_dir dir;
  std::unique_ptr<storage::engine> db;

  explicit temp_db(storage::sync_mode mode = storage::sync_mode::none);

  // Writes what `fill` puts in a write set, at once; fails the test if the write fails.
  void apply(const std::function<void(storage::write_set&)>& fill) const;
};

// Opens (or reopens) the engine at `path`; fails the test with the storage error otherwise.
std::unique_ptr<storage::engine> open_engine(const std::string& path,
                                             storage::sync_mode mode = storage::sync_mode::none);

} // namespace parley::test
