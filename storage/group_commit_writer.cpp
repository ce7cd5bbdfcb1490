#include "storage/group_commit_writer.hpp"

#include "common/metrics.hpp"

#include <chrono>

namespace parley::storage {

namespace {

struct writer_metrics {
  metrics::histogram& latency = metrics::global().get_histogram(
    "storage_commit_seconds", "Time to write and sync one group commit", metrics::latency_buckets());
  metrics::histogram& batch = metrics::global().get_histogram(
    "storage_commit_sets", "Write sets merged into one group commit",
    {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  metrics::counter& errors = metrics::global().get_counter(
    "storage_commit_errors_total", "Group commits that failed");
  metrics::gauge& queued = metrics::global().get_gauge(
    "storage_commit_queue", "Write sets waiting for the group-commit writer");
};

writer_metrics& instruments() {
  static writer_metrics m;
  return m;
}

} // namespace

group_commit_writer::group_commit_writer(engine& db) : db_(db) {
  instruments();
  thread_ = std::thread{[this] { run(); }};
}

group_commit_writer::~group_commit_writer() {
  stop();
}

void group_commit_writer::submit(write_set set, callback done) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!stopping_) {
      queue_.push_back(pending{std::move(set), std::move(done)});
      instruments().queued.add(1);
      cv_.notify_one();
      return;
    }
  }
  done(make_fault(errc::unavailable, "storage is shutting down"));
}

void group_commit_writer::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable())
    thread_.join();
}

uint64_t group_commit_writer::commits() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return commits_;
}

void group_commit_writer::run() {
  auto mode = db_.options().sync;
  // With sync=always every writer pays its own fsync, as the option promises.
  size_t max_group = mode == sync_mode::always ? 1 : db_.options().max_group_commit;
  std::deque<pending> group;
  std::vector<const write_set*> sets;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{mtx_};
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return; // stopping and drained
      // Everything that queued up while the last fsync ran rides on this one.
      while (!queue_.empty() && group.size() < max_group) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    instruments().queued.sub(static_cast<int64_t>(group.size()));
    sets.clear();
    for (auto& p : group)
      sets.push_back(&p.set);
    auto start = std::chrono::steady_clock::now();
    auto err = db_.write(sets, mode != sync_mode::none);
    instruments().latency.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    instruments().batch.observe(static_cast<double>(group.size()));
    if (err)
      instruments().errors.inc();
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ++commits_;
    }
    for (auto& p : group)
      p.done(err);
    group.clear();
  }
}

} // namespace parley::storage
