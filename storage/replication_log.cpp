#include "storage/replication_log.hpp"

#include "storage/key_codec.hpp"
#include "storage/record.hpp"

namespace parley::storage {

namespace {

std::string log_key(uint32_t partition, uint64_t lsn) {
  return key_builder{}.u32(partition).u64(lsn).bytes();
}

std::string partition_key(uint32_t partition) {
  return key_builder{}.u32(partition).bytes();
}

pb::ReplPosition position(uint32_t partition, uint64_t epoch, uint64_t lsn) {
  pb::ReplPosition p;
  p.set_partition(partition);
  p.set_epoch(epoch);
  p.set_lsn(lsn);
  return p;
}

// A log entry's record, checked against its key.
bool parse_entry(std::string_view key, std::string_view value, uint32_t partition,
                 pb::ReplRecord& out) {
  key_reader r{key};
  auto p = r.u32();
  auto lsn = r.u64();
  return p && lsn && r.done() && *p == partition
         && out.ParseFromArray(value.data(), static_cast<int>(value.size()))
         && out.partition() == partition && out.lsn() == *lsn;
}

} // namespace

result<std::map<uint32_t, pb::ReplRecord>> split_by_partition(
  const write_set& ws, const record_partitioner& partition_of) {
  std::map<uint32_t, pb::ReplRecord> out;
  for (auto& op : ws.ops()) {
    auto p = partition_of(op.fam, op.key);
    if (!p)
      return std::move(p).take_error();
    if (!*p)
      continue;
    auto& record = out[**p];
    record.set_partition(**p);
    auto* r = record.add_ops();
    r->set_family(static_cast<uint32_t>(op.fam));
    r->set_key(op.key);
    r->set_value(op.value);
    r->set_is_delete(op.is_delete);
  }
  return out;
}

void replication_log::append(write_set& ws, const pb::ReplRecord& record) const {
  ws.put(family::replog, log_key(record.partition(), record.lsn()), record.SerializeAsString());
}

result<pb::ReplPosition> replication_log::last(uint32_t partition,
                                               const snapshot_view* at) const {
  auto prefix = partition_key(partition);
  pb::ReplRecord newest;
  bool found = false;
  auto err = scan_records(
    db_, family::replog, prefix, prefix_successor(prefix),
    [&](std::string_view key, std::string_view value) {
      if (!parse_entry(key, value, partition, newest))
        return visit::corrupt;
      found = true;
      return visit::stop;
    },
    1, /*reverse=*/true, at);
  if (err)
    return err;
  return found ? position(partition, newest.epoch(), newest.lsn()) : position(partition, 0, 0);
}

result<uint64_t> replication_log::first(uint32_t partition) const {
  auto prefix = partition_key(partition);
  uint64_t oldest = 0;
  auto err = scan_records(db_, family::replog, prefix, prefix_successor(prefix),
                          [&](std::string_view key, std::string_view) {
                            key_reader r{key};
                            auto p = r.u32();
                            auto lsn = r.u64();
                            if (!p || !lsn || !r.done())
                              return visit::corrupt;
                            oldest = *lsn;
                            return visit::stop;
                          },
                          1);
  if (err)
    return err;
  return oldest;
}

result<replication_log::extent> replication_log::measure(uint32_t partition,
                                                          size_t sample) const {
  extent out;
  auto oldest = first(partition);
  if (!oldest)
    return std::move(oldest).take_error();
  if (*oldest == 0)
    return out;
  auto prefix = partition_key(partition);
  uint64_t sampled = 0;
  uint64_t sampled_bytes = 0;
  auto err = scan_records(
    db_, family::replog, prefix, prefix_successor(prefix),
    [&](std::string_view key, std::string_view value) {
      if (sampled == 0) {
        key_reader r{key};
        auto p = r.u32();
        auto lsn = r.u64();
        if (!p || !lsn || !r.done())
          return visit::corrupt;
        out.last = *lsn;
      }
      ++sampled;
      sampled_bytes += key.size() + value.size();
      return visit::next;
    },
    sample, /*reverse=*/true);
  if (err)
    return err;
  out.first = *oldest;
  if (sampled > 0 && out.last >= out.first)
    out.bytes = sampled_bytes / sampled * (out.last - out.first + 1);
  return out;
}

result<std::vector<pb::ReplRecord>> replication_log::read(uint32_t partition, uint64_t from,
                                                          size_t max_bytes) const {
  std::vector<pb::ReplRecord> out;
  size_t bytes = 0;
  auto err = scan_records(db_, family::replog, log_key(partition, from),
                          prefix_successor(partition_key(partition)),
                          [&](std::string_view key, std::string_view value) {
                            if (!out.empty() && bytes + value.size() > max_bytes)
                              return visit::stop;
                            pb::ReplRecord record;
                            if (!parse_entry(key, value, partition, record))
                              return visit::corrupt;
                            bytes += value.size();
                            out.push_back(std::move(record));
                            return visit::next;
                          });
  if (err)
    return err;
  return out;
}

result<size_t> replication_log::trim(write_set& ws, uint32_t partition, uint64_t below,
                                     size_t max_records) const {
  size_t n = 0;
  auto err = db_.scan(
    family::replog, partition_key(partition), log_key(partition, below),
    [&](std::string_view key, std::string_view) {
      ws.del(family::replog, std::string{key});
      return ++n < max_records;
    });
  if (err)
    return err;
  return n;
}

result<pb::ReplPosition> replication_log::applied(uint32_t partition) const {
  auto stored = read_record<pb::ReplPosition>(db_, family::repl_applied, partition_key(partition));
  if (!stored)
    return std::move(stored).take_error();
  if (!*stored)
    return position(partition, 0, 0);
  if ((*stored)->partition() != partition)
    return corrupt_record(family::repl_applied, partition_key(partition));
  return std::move(**stored);
}

result<std::optional<uint32_t>> replication_log::partition_of_entry(std::string_view key) {
  key_reader r{key};
  auto p = r.u32();
  if (!p || !r.u64() || !r.done())
    return corrupt_record(family::replog, key);
  return std::optional<uint32_t>{*p};
}

void replication_log::put_applied(write_set& ws, const pb::ReplPosition& at) {
  ws.put(family::repl_applied, partition_key(at.partition()), at.SerializeAsString());
}

fault replication_log::apply(write_set& ws, const pb::ReplRecord& record) {
  for (auto& op : record.ops()) {
    // From another node: a family this build does not have, or replication's own bookkeeping,
    // is refused before anything is written.
    if (op.family() >= family_count || op.family() == static_cast<uint32_t>(family::replog)
        || op.family() == static_cast<uint32_t>(family::repl_applied)
        || op.family() == static_cast<uint32_t>(family::meta))
      return make_fault(errc::bad_request, "replicated record of partition "
                                             + std::to_string(record.partition())
                                             + " names family " + std::to_string(op.family())
                                             + ", which is not replicated");
  }
  for (auto& op : record.ops()) {
    auto fam = static_cast<family>(op.family());
    if (op.is_delete())
      ws.del(fam, op.key());
    else
      ws.put(fam, op.key(), op.value());
  }
  put_applied(ws, position(record.partition(), record.epoch(), record.lsn()));
  return {};
}

} // namespace parley::storage
