// The records of the task scheduler (PROTOCOL.md, Tasks): tasks by id, idempotency keys, the
// executions of each task, and three indexes kept in step with every write of a task:
//   due       shard|time|id  next_run_at of a waiting task (PENDING, SCHEDULED, RETRYING); a
//                            RUNNING task has none (start-up finds it in the status index)
//   status    status|id      listing by status (ids are time-ordered, so this is creation order)
//   finished  time|id        COMPLETED and CANCELLED tasks, for the retention purge
//   owner     owner|status|id  the tasks of each user (not of the node), for listing by owner
//                            and counting each owner's unfinished tasks
// Idempotency keys are per owner: the key family holds scoped_key(owner, key).
// Callers (the task shards) serialize the writes of one task; this class only encodes them.
#pragma once

#include "common/errc.hpp"
#include "common/result.hpp"
#include "proto/parley.pb.h"
#include "storage/engine.hpp"
#include "storage/write_set.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::storage {

class task_store {
public:
  using status = pb::Task::Status;

  struct due_entry {
    int64_t at_ms;
    std::string id;
  };

  explicit task_store(engine& db) : db_(db) {}

  // The stored form of an idempotency key of `owner`. The node's own keys (empty owner) are
  // stored as they are, as every key was before tasks had owners.
  static std::string scoped_key(std::string_view owner, std::string_view key);

  // -- observers --------------------------------------------------------------------------------

  // Reads answer a result: the value, or the storage fault (unavailable, internal). A record or
  // index key that does not parse is a fault (internal, storage/record.hpp), never absent or
  // skipped.

  result<std::optional<pb::StoredTask>> get(std::string_view id) const;
  // The task `owner` created with `idempotency_key`, if any.
  result<std::optional<std::string>> id_for_key(std::string_view owner,
                                                std::string_view idempotency_key) const;
  // Writes an idempotency key's entry again as it is (a retried create's barrier:
  // actors/tasks/task_shard.cpp).
  void put_key(write_set& ws, std::string_view owner, std::string_view idempotency_key,
               const std::string& id) const;
  // Executions of a task, oldest first, at most `max`.
  result<std::vector<pb::TaskRun>> runs(std::string_view id, size_t max) const;
  // Due entries of `shard` after the position (from_ms, after_id) and before to_ms, earliest
  // first, at most `max`; an empty after_id starts at from_ms itself.
  result<std::vector<due_entry>> due(uint32_t shard, int64_t from_ms, std::string_view after_id,
                                     int64_t to_ms, size_t max) const;
  // Ids of tasks in `s` (or of all tasks when s is STATUS_UNSPECIFIED) after `after_id`, in id
  // order, at most `max`.
  result<std::vector<std::string>> ids(status s, std::string_view after_id, size_t max) const;
  // Ids of `owner`'s tasks in `s` after `after_id`, in id order, at most `max`.
  result<std::vector<std::string>> owner_ids(std::string_view owner, status s,
                                             std::string_view after_id, size_t max) const;
  // How many unfinished tasks (PENDING, SCHEDULED, RUNNING, RETRYING, PAUSED) each owner has
  // (a full scan of the owner index: start-up only).
  result<std::map<std::string, int64_t>> unfinished_by_owner() const;
  // Ids of COMPLETED and CANCELLED tasks that finished before `before_ms`, at most `max`.
  result<std::vector<std::string>> finished_before(int64_t before_ms, size_t max) const;
  // How many tasks are in each status (a full scan of the status index: start-up only).
  result<std::map<status, uint64_t>> count_by_status() const;

  // -- modifiers --------------------------------------------------------------------------------

  // Writes `after` and moves every index entry of `before` (nullptr: a new task) to it.
  // `payload_field`: the payload as take_payload() encoded it, for an `after` held without one.
  void put(write_set& ws, uint32_t shard, const pb::StoredTask* before,
           const pb::StoredTask& after, std::string_view payload_field = {}) const;

  // The payload of `task` moved out of it, encoded as its record stores it (the payload field),
  // or empty when it has none: a task shard holds it once, as bytes, and writes it unparsed with
  // every transition of the task instead of copying a google.protobuf.Value each time. The
  // stored bytes parse as before: a field's position in a record does not matter.
  static std::string take_payload(pb::StoredTask& task);
  // The payload that take_payload() encoded; false if `field` does not parse.
  static bool read_payload(std::string_view field, google::protobuf::Value& out);
  void put_run(write_set& ws, std::string_view id, uint32_t run_no, const pb::TaskRun& run) const;
  // Removes the task, its indexes, its idempotency key and its runs.
  void erase(write_set& ws, uint32_t shard, const pb::StoredTask& task) const;

private:
  engine& db_;
};

} // namespace parley::storage
