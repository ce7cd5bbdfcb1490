// Group commit: many writers' write sets become one RocksDB WriteBatch and one WAL fsync, and
// each writer is told only after its batch is durable. One thread owns the writing so that
// actors never block on I/O; callbacks run on that thread and must only hand off (send a
// message, post to a strand).
#pragma once

#include "common/errc.hpp"
#include "storage/engine.hpp"
#include "storage/write_set.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace parley::storage {

class group_commit_writer {
public:
  using callback = std::function<void(const fault&)>;

  // -- constructors --------------------------------------------------------------------------

  // Starts the writer thread. `db` must outlive this object.
  explicit group_commit_writer(engine& db);

  // Drains everything submitted so far, then stops the thread.
  ~group_commit_writer();

  group_commit_writer(const group_commit_writer&) = delete;
  group_commit_writer& operator=(const group_commit_writer&) = delete;

  // -- modifiers -----------------------------------------------------------------------------

  // Queues `set`; `done` runs once it is durable (per storage.sync) or failed. After stop(),
  // `done` is called at once with `unavailable`.
  void submit(write_set set, callback done);

  // Writes what is queued, then refuses new work. Idempotent.
  void stop();

  // -- observers -----------------------------------------------------------------------------

  // Number of commits (WriteBatches) written so far; with sync=batch usually far fewer than
  // the number of submitted sets.
  uint64_t commits() const;

private:
  struct pending {
    write_set set;
    callback done;
  };

  void run();

  engine& db_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<pending> queue_;
  bool stopping_ = false;
  uint64_t commits_ = 0;
  std::thread thread_;
};

} // namespace parley::storage
