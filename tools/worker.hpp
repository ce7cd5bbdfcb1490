// The reference task worker behind parley-worker: `concurrency` slots, each long-polling
// POST /api/v1/leases for one task at a time, running the configured shell command with the
// task's payload on stdin, heartbeating the lease while it runs and reporting complete or fail.
#pragma once

#include "net/client/http_client.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace parley::pb {
class Lease;
}

namespace parley::tools {

using net::client::http_client;
using net::client::http_client_options;
using net::client::http_response;
using net::client::http_url;

struct worker_options {
  // Server base URL. Default: http://127.0.0.1:8080
  http_url url;
  // Bearer token for every request. Required.
  std::string token;
  // Task types to lease (at least one).
  std::vector<std::string> task_types;
  // Run with /bin/sh -c per task; the payload JSON on stdin. Required.
  std::string command;
  // Slots: tasks run at the same time. Default: 1
  int concurrency = 1;
  // Lease length asked for and renewed by heartbeats, every lease_sec / 3. Default: 30 s
  int lease_sec = 30;
  // Long poll of one lease request when nothing is due. Default: 30000 ms
  int wait_ms = 30000;
  // Sent with every lease. Default (set by main): hostname-pid
  std::string worker_id;
  // Leases taken before the worker exits; 0 = no limit (--once is 1). Default: 0
  uint64_t max_tasks = 0;
  // This exit status fails the task as not retryable (it goes DEAD); -1 = none. Default: -1
  int non_retryable_exit = -1;
  // After SIGTERM to a command, time before SIGKILL. Default: 10000 ms
  std::chrono::milliseconds kill_grace{10000};
};

class worker {
public:
  // -- constructors --

  explicit worker(worker_options opts);

  // -- modifiers --

  // Runs the slots until a stop, the max_tasks budget is spent, or the server refuses the
  // lease request itself (401, 403, 404, 400: wrong token, URL or flags). Returns the process
  // exit status: 0, or 1 after such a refusal.
  int run();

  // Thread-safe. First call: take no new leases (an open long poll is dropped) and let running
  // commands finish and report. Second call: also stop running commands (SIGTERM, then SIGKILL
  // after kill_grace) and fail their tasks as retryable.
  void request_stop();

  // -- observers --

  // Commands running now.
  int running() const { return running_.load(); }

private:
  void slot_loop(int slot);
  void run_lease(http_client& client, const pb::Lease& lease);
  http_response report(http_client& client, const std::string& target, const std::string& body);
  bool reserve();
  void release();
  void pause(std::chrono::milliseconds d);
  std::string fmt_types() const;

  worker_options opts_;
  std::atomic<bool> stop_leasing_{false};
  std::atomic<bool> stop_running_{false};
  std::atomic<bool> refused_{false};
  std::atomic<int> running_{0};
  // Leases that may still be taken (max_tasks), reserved before each lease request.
  std::atomic<int64_t> budget_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
};

} // namespace parley::tools
