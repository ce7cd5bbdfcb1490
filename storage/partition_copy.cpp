#include "storage/partition_copy.hpp"

#include "storage/record.hpp"

namespace parley::storage {

result<partition_copy> partition_copy::start(const engine& db, uint32_t partition,
                                             record_partitioner partition_of) {
  auto at = db.snapshot();
  auto end = replication_log{db}.last(partition, at.get());
  if (!end)
    return std::move(end).take_error();
  return partition_copy{db, partition, std::move(partition_of), std::move(at), std::move(*end)};
}

result<partition_copy::chunk> partition_copy::next(size_t max_bytes, size_t max_visits) {
  chunk out;
  size_t bytes = 0;
  size_t visits = 0;
  auto specs = family_specs();
  while (family_index_ < family_count) {
    auto fam = specs[family_index_].id;
    if (!replicated_family(fam)) {
      ++family_index_;
      next_key_.clear();
      continue;
    }
    fault bad;
    bool finished = true;  // the family's scan reached its end
    auto err = db_->scan(
      fam, next_key_, {},
      [&](std::string_view key, std::string_view value) {
        if (bytes >= max_bytes || visits >= max_visits) {
          next_key_.assign(key);  // this one comes first next time
          finished = false;
          return false;
        }
        ++visits;
        auto owner = partition_of_(fam, key);
        if (!owner) {
          bad = owner.error();
          return false;
        }
        if (*owner && **owner == partition_) {
          auto& op = out.ops.emplace_back();
          op.set_family(static_cast<uint32_t>(fam));
          op.set_key(std::string{key});
          op.set_value(std::string{value});
          bytes += key.size() + value.size();
        }
        return true;
      },
      0, at_.get());
    if (err)
      return err;
    if (bad)
      return bad;
    if (!finished)
      break;
    ++family_index_;
    next_key_.clear();
  }
  out.done = family_index_ >= family_count;
  records_ += out.ops.size();
  bytes_ += bytes;
  return out;
}

fault erase_partition(const engine& db, uint32_t partition,
                      const record_partitioner& partition_of, write_set& ws) {
  auto specs = family_specs();
  for (size_t i = 0; i < family_count; ++i) {
    auto fam = specs[i].id;
    if (fam == family::repl_applied)
      continue;  // the caller puts the position the partition starts over from
    fault bad;
    auto err = db.scan(fam, {}, {}, [&](std::string_view key, std::string_view) {
      auto owner = fam == family::replog ? replication_log::partition_of_entry(key)
                                         : partition_of(fam, key);
      if (!owner) {
        bad = owner.error();
        return false;
      }
      if (*owner && **owner == partition)
        ws.del(fam, std::string{key});
      return true;
    });
    if (err)
      return err;
    if (bad)
      return bad;
  }
  return {};
}

} // namespace parley::storage
