// A list of puts and deletes that must become durable together. Stores build write sets, the
// group-commit writer applies many of them in one RocksDB WriteBatch.
#pragma once

#include "storage/families.hpp"

#include <string>
#include <utility>
#include <vector>

namespace parley::storage {

class write_set {
public:
  struct op {
    family fam;
    bool is_delete;
    std::string key;
    std::string value;
  };

  void put(family fam, std::string key, std::string value) {
    bytes_ += key.size() + value.size();
    ops_.push_back(op{fam, false, std::move(key), std::move(value)});
  }

  void del(family fam, std::string key) {
    bytes_ += key.size();
    ops_.push_back(op{fam, true, std::move(key), {}});
  }

  const std::vector<op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  size_t bytes() const { return bytes_; }

private:
  std::vector<op> ops_;
  size_t bytes_ = 0;
};

} // namespace parley::storage
