#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

namespace parley::test {

std::unique_ptr<storage::engine> open_engine(const std::string& path, storage::sync_mode mode) {
  storage::storage_options opts;
  opts.data_dir = path;
  opts.sync = mode;
  fault err;
  auto db = storage::engine::open(opts, err);
  INFO(err.message);
  REQUIRE(db);
  return db;
}

temp_db::temp_db(storage::sync_mode mode) : db(open_engine(dir.path(), mode)) {
}

void temp_db::apply(const std::function<void(storage::write_set&)>& fill) const {
  storage::write_set ws;
  fill(ws);
  REQUIRE_FALSE(db->write({&ws}, false));
}

} // namespace parley::test
