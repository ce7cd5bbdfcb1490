#include "storage/task_store.hpp"

#include "storage/key_codec.hpp"
#include "storage/record.hpp"

namespace parley::storage {

namespace {

constexpr uint8_t due_prefix = 'd';
constexpr uint8_t status_prefix = 's';
constexpr uint8_t finished_prefix = 'f';
constexpr uint8_t owner_prefix = 'o';

using pbstatus = pb::Task::Status;

// The time of the task's due entry, or -1 when nothing is due for it. RUNNING tasks have none:
// leases are short-lived and numerous, and the status index finds them at start-up.
int64_t due_time(const pb::StoredTask& t) {
  switch (t.status()) {
    case pb::Task::PENDING:
    case pb::Task::SCHEDULED:
    case pb::Task::RETRYING:
      return t.next_run_at_ms();
    default:
      return -1;
  }
}

bool finished(const pb::StoredTask& t) {
  return t.status() == pb::Task::COMPLETED || t.status() == pb::Task::CANCELLED;
}

std::string due_key(uint32_t shard, int64_t at_ms, std::string_view id) {
  return key_builder{}.u8(due_prefix).u32(shard).i64(at_ms).str(id).bytes();
}

std::string status_key(pbstatus s, std::string_view id) {
  return key_builder{}.u8(status_prefix).u8(static_cast<uint8_t>(s)).str(id).bytes();
}

std::string finished_key(int64_t at_ms, std::string_view id) {
  return key_builder{}.u8(finished_prefix).i64(at_ms).str(id).bytes();
}

std::string owner_key(std::string_view owner, pbstatus s, std::string_view id) {
  return key_builder{}.u8(owner_prefix).str(owner).u8(static_cast<uint8_t>(s)).str(id).bytes();
}

// The task ids that end the index keys in [from, to), at most `max`: each key's leading fields
// are read by `skip`, then its id. A key that does not parse is reported.
template <class Skip>
result<std::vector<std::string>> scan_index_ids(const engine& db, const std::string& from,
                                                const std::string& to, size_t max, Skip skip) {
  std::vector<std::string> out;
  auto err = scan_records(
    db, family::task_index, from, to,
    [&](std::string_view key, std::string_view) {
      key_reader r{key};
      skip(r);
      auto id = r.str();
      if (!id)
        return visit::corrupt;
      out.push_back(std::move(*id));
      return visit::next;
    },
    max);
  if (err)
    return err;
  return out;
}

std::string run_key(std::string_view id, uint32_t run_no) {
  return key_builder{}.str(id).u32(run_no).bytes();
}

} // namespace

result<std::optional<pb::StoredTask>> task_store::get(std::string_view id) const {
  return read_record<pb::StoredTask>(db_, family::tasks, id);
}

std::string task_store::scoped_key(std::string_view owner, std::string_view key) {
  if (owner.empty())
    return std::string{key};
  // A leading NUL keeps scoped keys apart from the node's (and older) unscoped ones.
  return std::string(1, '\0') + key_builder{}.str(owner).str(key).bytes();
}

result<std::optional<std::string>> task_store::id_for_key(std::string_view owner,
                                                          std::string_view idempotency_key) const {
  return read_value(db_, family::task_keys, scoped_key(owner, idempotency_key));
}

result<std::vector<pb::TaskRun>> task_store::runs(std::string_view id, size_t max) const {
  std::vector<pb::TaskRun> out;
  auto from = key_builder{}.str(id).bytes();
  auto to = prefix_successor(from);
  auto err = scan_records(
    db_, family::task_runs, from, to,
    [&](std::string_view, std::string_view value) {
      pb::TaskRun run;
      if (!run.ParseFromArray(value.data(), static_cast<int>(value.size())))
        return visit::corrupt;
      out.push_back(std::move(run));
      return visit::next;
    },
    max);
  if (err)
    return err;
  return out;
}

result<std::vector<task_store::due_entry>> task_store::due(uint32_t shard, int64_t from_ms,
                                                           std::string_view after_id,
                                                           int64_t to_ms, size_t max) const {
  std::vector<due_entry> out;
  auto from = after_id.empty() ? key_builder{}.u8(due_prefix).u32(shard).i64(from_ms).bytes()
                               : prefix_successor(due_key(shard, from_ms, after_id));
  auto to = key_builder{}.u8(due_prefix).u32(shard).i64(to_ms).bytes();
  auto err = scan_records(
    db_, family::task_index, from, to,
    [&](std::string_view key, std::string_view) {
      key_reader r{key};
      r.u8();
      r.u32();
      auto at = r.i64();
      auto id = r.str();
      if (!at || !id)
        return visit::corrupt;
      out.push_back(due_entry{*at, std::move(*id)});
      return visit::next;
    },
    max);
  if (err)
    return err;
  return out;
}

result<std::vector<std::string>> task_store::ids(status s, std::string_view after_id,
                                                 size_t max) const {
  if (s == pb::Task::STATUS_UNSPECIFIED) {
    // The tasks family itself is in id order; its keys are the raw ids.
    std::vector<std::string> out;
    std::string from{after_id};
    if (!from.empty())
      from.push_back('\0');  // strictly after
    auto err = db_.scan(
      family::tasks, from, {},
      [&](std::string_view key, std::string_view) {
        out.emplace_back(key);
        return true;
      },
      max);
    if (err)
      return err;
    return out;
  }
  auto prefix = key_builder{}.u8(status_prefix).u8(static_cast<uint8_t>(s)).bytes();
  auto from = after_id.empty() ? prefix : prefix_successor(status_key(s, after_id));
  return scan_index_ids(db_, from, prefix_successor(prefix), max, [](key_reader& r) {
    r.u8();
    r.u8();
  });
}

result<std::vector<std::string>> task_store::owner_ids(std::string_view owner, status s,
                                                       std::string_view after_id,
                                                       size_t max) const {
  auto prefix = key_builder{}.u8(owner_prefix).str(owner).u8(static_cast<uint8_t>(s)).bytes();
  auto from = after_id.empty() ? prefix : prefix_successor(owner_key(owner, s, after_id));
  return scan_index_ids(db_, from, prefix_successor(prefix), max, [](key_reader& r) {
    r.u8();
    r.str();
    r.u8();
  });
}

result<std::map<std::string, int64_t>> task_store::unfinished_by_owner() const {
  std::map<std::string, int64_t> out;
  auto from = key_builder{}.u8(owner_prefix).bytes();
  auto err = scan_records(db_, family::task_index, from, prefix_successor(from),
                     [&](std::string_view key, std::string_view) {
                       key_reader r{key};
                       r.u8();
                       auto owner = r.str();
                       auto s = r.u8();
                       if (!owner || !s)
                         return visit::corrupt;
                       switch (static_cast<status>(*s)) {
                         case pb::Task::COMPLETED:
                         case pb::Task::CANCELLED:
                         case pb::Task::DEAD:
                           break;
                         default:
                           ++out[*owner];
                       }
                       return visit::next;
                     });
  if (err)
    return err;
  return out;
}

result<std::vector<std::string>> task_store::finished_before(int64_t before_ms,
                                                             size_t max) const {
  auto from = key_builder{}.u8(finished_prefix).bytes();
  auto to = key_builder{}.u8(finished_prefix).i64(before_ms).bytes();
  return scan_index_ids(db_, from, to, max, [](key_reader& r) {
    r.u8();
    r.i64();
  });
}

result<std::map<task_store::status, uint64_t>> task_store::count_by_status() const {
  std::map<status, uint64_t> out;
  auto from = key_builder{}.u8(status_prefix).bytes();
  auto err = scan_records(db_, family::task_index, from, prefix_successor(from),
                     [&](std::string_view key, std::string_view) {
                       key_reader r{key};
                       r.u8();
                       auto s = r.u8();
                       if (!s)
                         return visit::corrupt;
                       ++out[static_cast<status>(*s)];
                       return visit::next;
                     });
  if (err)
    return err;
  return out;
}

std::string task_store::take_payload(pb::StoredTask& task) {
  if (!task.has_payload())
    return {};
  pb::StoredTask carrier;
  carrier.set_allocated_payload(task.release_payload());
  return carrier.SerializeAsString();
}

bool task_store::read_payload(std::string_view field, google::protobuf::Value& out) {
  pb::StoredTask carrier;
  if (!carrier.ParseFromArray(field.data(), static_cast<int>(field.size())))
    return false;
  out = std::move(*carrier.mutable_payload());
  return true;
}

void task_store::put(write_set& ws, uint32_t shard, const pb::StoredTask* before,
                     const pb::StoredTask& after, std::string_view payload_field) const {
  auto& id = after.id();
  auto bytes = after.SerializeAsString();
  bytes.append(payload_field);
  ws.put(family::tasks, id, std::move(bytes));
  auto old_due = before ? due_time(*before) : -1;
  auto new_due = due_time(after);
  if (old_due != new_due) {
    if (old_due >= 0)
      ws.del(family::task_index, due_key(shard, old_due, id));
    if (new_due >= 0)
      ws.put(family::task_index, due_key(shard, new_due, id), {});
  }
  if (!before || before->status() != after.status()) {
    if (before)
      ws.del(family::task_index, status_key(before->status(), id));
    ws.put(family::task_index, status_key(after.status(), id), {});
  }
  if (!before || before->status() != after.status() || before->owner() != after.owner()) {
    if (before && !before->owner().empty())
      ws.del(family::task_index, owner_key(before->owner(), before->status(), id));
    if (!after.owner().empty())
      ws.put(family::task_index, owner_key(after.owner(), after.status(), id), {});
  }
  bool was_finished = before && finished(*before);
  if (was_finished && (!finished(after) || before->finished_at_ms() != after.finished_at_ms()))
    ws.del(family::task_index, finished_key(before->finished_at_ms(), id));
  if (finished(after) && (!was_finished || before->finished_at_ms() != after.finished_at_ms()))
    ws.put(family::task_index, finished_key(after.finished_at_ms(), id), {});
  if (!before && !after.idempotency_key().empty())
    put_key(ws, after.owner(), after.idempotency_key(), id);
}

void task_store::put_key(write_set& ws, std::string_view owner,
                         std::string_view idempotency_key, const std::string& id) const {
  ws.put(family::task_keys, scoped_key(owner, idempotency_key), id);
}

void task_store::put_run(write_set& ws, std::string_view id, uint32_t run_no,
                         const pb::TaskRun& run) const {
  ws.put(family::task_runs, run_key(id, run_no), run.SerializeAsString());
}

void task_store::erase(write_set& ws, uint32_t shard, const pb::StoredTask& task) const {
  auto& id = task.id();
  ws.del(family::tasks, id);
  if (auto at = due_time(task); at >= 0)
    ws.del(family::task_index, due_key(shard, at, id));
  ws.del(family::task_index, status_key(task.status(), id));
  if (finished(task))
    ws.del(family::task_index, finished_key(task.finished_at_ms(), id));
  if (!task.owner().empty())
    ws.del(family::task_index, owner_key(task.owner(), task.status(), id));
  if (!task.idempotency_key().empty())
    ws.del(family::task_keys, scoped_key(task.owner(), task.idempotency_key()));
  for (uint32_t run = 0; run < task.run_count(); ++run)
    ws.del(family::task_runs, run_key(id, run));
}

} // namespace parley::storage
