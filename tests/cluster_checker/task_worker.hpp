// A task client of the checker on a thread of its own, through one node's REST API: creates
// tasks with idempotency keys (a create without an answer, or refused, is sometimes retried with
// the same key, as a real client would), leases due tasks of its type from the whole cluster
// and completes them, logging every call's outcome (task_op). No Catch2 assertion runs on its
// thread: the test judges the log afterwards.
#pragma once

#include "cluster_checker/node_directory.hpp"
#include "cluster_checker/task_op.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

struct http_result;

struct task_worker_options {
  std::string name;        // worker_id, and the prefix of its idempotency keys
  std::string token;       // a dev token; every worker of a run uses the same user's
  std::string task_type = "checker";
  uint32_t node = 0;
  // Pause between two rounds (create, lease, complete). Default: 100 ms
  std::chrono::milliseconds pace{100};
  // Lease length. Default: 5 s (a lease lost with a frozen node expires soon)
  uint32_t lease_sec = 5;
  size_t max_pending = 16;
  uint32_t seed = 1;
};

class task_worker {
public:
  task_worker(const node_directory& nodes, task_worker_options opts);
  ~task_worker();
  task_worker(const task_worker&) = delete;
  task_worker& operator=(const task_worker&) = delete;

  void stop();
  // The log, in calling order; only after stop().
  const std::vector<task_op>& ops() const { return ops_; }

private:
  void run();
  void create(const std::string& key, bool retry);
  void lease_and_complete();
  // The call's answer; status 0 when it failed or timed out (no answer).
  http_result call(const std::string& method, const std::string& target, const std::string& body);

  const node_directory& nodes_;
  task_worker_options opts_;
  std::mt19937 rng_;
  std::deque<std::string> pending_;
  uint64_t next_key_ = 1;
  std::vector<task_op> ops_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace parley::test
