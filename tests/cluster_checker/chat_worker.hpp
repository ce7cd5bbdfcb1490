// A chat client of the checker on a thread of its own: sends messages with unique
// client_msg_ids into its conversations through one node, one at a time, and logs each send's
// outcome (chat_op). Sends that got `unavailable`, another error or no answer are sometimes
// retried later with the same client_msg_id, as a real client would, and sometimes given up.
// It reconnects when its connection breaks (a killed or stopped node). No Catch2 assertion runs
// on its thread: the test judges the log afterwards.
#pragma once

#include "cluster_checker/chat_op.hpp"
#include "cluster_checker/node_directory.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

class ws_client;

struct chat_worker_options {
  std::string user;
  std::string token;                       // a dev token of `user` (valid on every node)
  uint32_t node = 0;                       // the node it talks to
  std::vector<std::string> conversations;  // it is a member of each
  // Pause between two sends. Default: 40 ms
  std::chrono::milliseconds pace{40};
  // A send without an answer after this is a timeout. Default: 2000 ms
  std::chrono::milliseconds answer_timeout{2000};
  // Unanswered or refused sends kept for a retry; older ones are given up. Default: 16
  size_t max_pending = 16;
  uint32_t seed = 1;
};

class chat_worker {
public:
  chat_worker(const node_directory& nodes, chat_worker_options opts);
  // Stops it (as stop()).
  ~chat_worker();
  chat_worker(const chat_worker&) = delete;
  chat_worker& operator=(const chat_worker&) = delete;

  // Ends the send in flight, then stops.
  void stop();
  // The log, in sending order; only after stop().
  const std::vector<chat_op>& ops() const { return ops_; }
  const std::string& user() const { return opts_.user; }

private:
  struct pending {
    std::string conversation;
    std::string client_msg_id;
  };

  void run();
  bool connect();
  void send_one(const pending& what, bool retry);

  const node_directory& nodes_;
  chat_worker_options opts_;
  std::mt19937 rng_;
  std::unique_ptr<ws_client> ws_;
  std::deque<pending> pending_;
  uint64_t next_id_ = 1;
  uint64_t next_request_ = 1;
  std::vector<chat_op> ops_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace parley::test
