#include "cluster_faults/paced_sender.hpp"

#include "proto/parley.pb.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdlib>

namespace parley::test {

namespace {

void fill(send_outcome& out, const pb::ServerFrame& frame,
          std::chrono::steady_clock::time_point now) {
  out.answered = now;
  if (frame.has_ack()) {
    out.what = send_outcome::kind::ack;
    out.seq = frame.ack().seq();
  } else if (frame.has_error()) {
    out.what = send_outcome::kind::error;
    out.code = frame.error().code();
    out.retry_after_ms = frame.error().retry_after_ms();
  }
}

} // namespace

paced_sender::paced_sender(ws_client& socket, std::string conversation, std::string prefix,
                           std::chrono::milliseconds pace,
                           std::chrono::milliseconds answer_timeout)
  : socket_(socket), conversation_(std::move(conversation)), prefix_(std::move(prefix)),
    pace_(pace), answer_timeout_(answer_timeout), thread_([this] { run(); }) {}

paced_sender::~paced_sender() {
  stop();
}

void paced_sender::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
}

std::vector<send_outcome> paced_sender::outcomes() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return outcomes_;
}

void paced_sender::run() {
  auto next = std::chrono::steady_clock::now();
  for (uint64_t n = 1; !stopping_; ++n) {
    auto outcome = send_one(n);
    {
      std::lock_guard<std::mutex> guard{mutex_};
      outcomes_.push_back(std::move(outcome));
    }
    // The pace is the point of this sender: sends spread evenly over the cut, not a guess.
    next += pace_;
    std::this_thread::sleep_until(next);
    next = std::max(next, std::chrono::steady_clock::now());
  }
}

send_outcome paced_sender::send_one(uint64_t n) {
  send_outcome out;
  out.client_msg_id = prefix_ + std::to_string(n);
  auto request_id = "r" + std::to_string(n);
  out.sent = std::chrono::steady_clock::now();
  socket_.send_text(R"({"request_id":")" + request_id + R"(","send":{"conversation_id":")"
                    + conversation_ + R"(","client_msg_id":")" + out.client_msg_id
                    + R"(","body":"paced )" + std::to_string(n) + R"("}})");
  auto deadline = out.sent + answer_timeout_;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    auto text = left.count() > 0 ? socket_.read(static_cast<int>(left.count()))
                                 : std::optional<std::string>{};
    auto now = std::chrono::steady_clock::now();
    if (!text) {
      out.answered = now;
      return out;  // no_answer: a timeout, or the connection closed
    }
    pb::ServerFrame frame;
    if (!google::protobuf::util::JsonStringToMessage(*text, &frame).ok())
      continue;  // not JSON of a server frame: nothing this sender judges
    if (frame.request_id() == request_id) {
      fill(out, frame, now);
      return out;
    }
    // A late answer to an earlier send that had no answer in time: kept, a test must see an
    // ack that came late.
    if (frame.request_id().size() > 1 && frame.request_id()[0] == 'r') {
      auto earlier = std::strtoull(frame.request_id().c_str() + 1, nullptr, 10);
      std::lock_guard<std::mutex> guard{mutex_};
      if (earlier >= 1 && earlier <= outcomes_.size()
          && outcomes_[earlier - 1].what == send_outcome::kind::no_answer)
        fill(outcomes_[earlier - 1], frame, now);
    }
  }
}

} // namespace parley::test
