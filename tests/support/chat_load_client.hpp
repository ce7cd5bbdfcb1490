// One chat connection that sends paced messages from its own thread, as a real client does:
// one send in flight, a unique client_msg_id each, `unavailable` (and a send left unanswered)
// retried with the same client_msg_id until it is acknowledged. It records every ack and every
// message pushed to it, for a test to check after the load (nothing lost, nothing twice).
// No Catch2 assertion runs on its thread: what goes wrong is recorded and asserted by the test.
#pragma once

#include "support/test_client.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

// Where a load client sends: a conversation by id, or a direct conversation by the other user.
struct chat_target {
  std::string conversation_id;
  std::string to_user;
};

// A message as a connection saw it (pushed, or acknowledged to it).
struct seen_message {
  std::string conversation_id;
  uint64_t seq = 0;
  std::string client_msg_id;
};

// What a load client has done so far (a copy, taken under its lock).
struct load_record {
  std::vector<seen_message> acked;     // its own sends, in ack order
  std::vector<seen_message> received;  // `message` frames pushed to it, in arrival order
  uint64_t sends = 0;                  // distinct client_msg_ids sent
  uint64_t unavailable = 0;            // `unavailable` answers (each retried)
  uint64_t unanswered = 0;             // sends retried because no answer came in time
  std::vector<std::string> failures;   // anything else: other errors, a dropped connection
  bool in_flight = false;              // a send waits for its ack
};

class chat_load_client {
public:
  // -- constructors -----------------------------------------------------------------------------

  // Connects as `user` with device `device` to host:port (a dev token from that node); name()
  // prefixes its client_msg_ids. connected() says whether that worked; no thread runs yet.
  chat_load_client(std::string name, const std::string& host, uint16_t port,
                   const std::string& user, const std::string& device,
                   std::vector<chat_target> targets);
  ~chat_load_client();

  chat_load_client(const chat_load_client&) = delete;
  chat_load_client& operator=(const chat_load_client&) = delete;

  // -- observers --------------------------------------------------------------------------------

  const std::string& name() const { return name_; }
  const std::string& user() const { return user_; }
  // Why connecting failed ("" when it worked).
  const std::string& connect_error() const { return connect_error_; }
  bool connected() const { return connect_error_.empty(); }
  load_record record() const;

  // -- modifiers --------------------------------------------------------------------------------

  // Starts the thread: it reads all the time and, while sending is on, sends one message every
  // `interval` (round robin over the targets).
  void start(const std::shared_ptr<std::atomic<int64_t>>& interval_ms);
  // Stops starting new sends; a send in flight still ends in an ack (or a recorded failure).
  void stop_sending() { sending_ = false; }
  // Stops the thread (after stop_sending and the last ack, or to give up).
  void stop();

private:
  void run();
  void send_pending();
  void handle(const std::string& text);

  std::string name_;
  std::string user_;
  std::vector<chat_target> targets_;
  std::unique_ptr<ws_client> ws_;
  std::string connect_error_;
  std::shared_ptr<std::atomic<int64_t>> interval_ms_;
  std::atomic<bool> sending_{true};
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  // The send in flight (thread only).
  std::string pending_id_;
  std::string pending_json_;
  std::chrono::steady_clock::time_point pending_since_;
  std::chrono::steady_clock::time_point retry_at_;
  bool waiting_retry_ = false;
  uint64_t next_msg_ = 0;

  mutable std::mutex mutex_;
  load_record rec_;
};

} // namespace parley::test
