// A chat user that sends messages at a steady pace from a thread of its own, one at a time,
// and records what became of each (ack, error, no answer) and when, so that a test can cut the
// network meanwhile and judge the outcomes afterwards. No Catch2 assertion runs on its thread.
#pragma once

#include "support/test_client.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

struct send_outcome {
  enum class kind : uint8_t { ack, error, no_answer };

  std::string client_msg_id;
  std::chrono::steady_clock::time_point sent;
  std::chrono::steady_clock::time_point answered;  // when the answer arrived (or gave up)
  kind what = kind::no_answer;
  uint64_t seq = 0;            // ack
  std::string code;            // error
  int64_t retry_after_ms = 0;  // error
};

class paced_sender {
public:
  // Sends a message to `conversation` over `socket` (connected, welcome read; only this
  // sender reads it until stop()) every `pace`, each after the previous one was answered or
  // `answer_timeout` passed. client_msg_ids are "<prefix><n>", n from 1.
  paced_sender(ws_client& socket, std::string conversation, std::string prefix,
               std::chrono::milliseconds pace, std::chrono::milliseconds answer_timeout);
  // Stops it (as stop()).
  ~paced_sender();
  paced_sender(const paced_sender&) = delete;
  paced_sender& operator=(const paced_sender&) = delete;

  // Waits for the send in flight to end, then stops. The socket is the caller's again.
  void stop();

  // The outcomes so far, in sending order.
  std::vector<send_outcome> outcomes() const;

private:
  void run();
  send_outcome send_one(uint64_t n);

  ws_client& socket_;
  std::string conversation_;
  std::string prefix_;
  std::chrono::milliseconds pace_;
  std::chrono::milliseconds answer_timeout_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<send_outcome> outcomes_;
  std::thread thread_;
};

} // namespace parley::test
