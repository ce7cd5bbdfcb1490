#include "cluster_checker/chat_worker.hpp"

#include "proto/parley.pb.h"
#include "support/test_client.hpp"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <exception>
#include <optional>

namespace parley::test {

namespace {

std::optional<pb::ServerFrame> parse(const std::string& text) {
  pb::ServerFrame frame;
  if (!google::protobuf::util::JsonStringToMessage(text, &frame).ok())
    return std::nullopt;
  return frame;
}

} // namespace

chat_worker::chat_worker(const node_directory& nodes, chat_worker_options opts)
  : nodes_(nodes), opts_(std::move(opts)), rng_(opts_.seed), thread_([this] { run(); }) {}

chat_worker::~chat_worker() {
  stop();
}

void chat_worker::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
}

void chat_worker::run() {
  while (!stopping_) {
    if (!ws_ && !connect()) {
      // The node is down or frozen: a client's reconnect pause, not a guess at a condition.
      std::this_thread::sleep_for(std::chrono::milliseconds{200});
      continue;
    }
    // One send in three retries an unacknowledged one (oldest first), the others are new.
    if (!pending_.empty() && rng_() % 3 == 0) {
      auto what = pending_.front();
      pending_.pop_front();
      send_one(what, true);
    } else {
      auto n = next_id_++;
      pending what{opts_.conversations[n % opts_.conversations.size()],
                   opts_.user + "-" + std::to_string(n)};
      send_one(what, false);
    }
    // The pace keeps the load steady across faults (a client's rhythm, not a wait for state).
    std::this_thread::sleep_for(opts_.pace);
  }
}

bool chat_worker::connect() {
  auto at = nodes_.at(opts_.node);
  try {
    auto ws = std::make_unique<ws_client>();
    if (ws->connect(at.host, at.port, "/ws", opts_.token) != 101)
      return false;
    auto welcome = ws->read(static_cast<int>(opts_.answer_timeout.count()));
    if (!welcome)
      return false;
    auto frame = parse(*welcome);
    if (!frame || !frame->has_welcome())
      return false;
    ws_ = std::move(ws);
    return true;
  } catch (const std::exception&) {
    return false;  // refused (a killed node) or reset: try again after the pause
  }
}

void chat_worker::send_one(const pending& what, bool retry) {
  chat_op op;
  op.user = opts_.user;
  op.node = opts_.node;
  op.conversation = what.conversation;
  op.client_msg_id = what.client_msg_id;
  op.retry = retry;
  auto request_id = "r" + std::to_string(next_request_++);
  op.sent = std::chrono::steady_clock::now();
  bool sent = ws_->try_send_text(
    R"({"request_id":")" + request_id + R"(","send":{"conversation_id":")" + what.conversation
    + R"(","client_msg_id":")" + what.client_msg_id + R"(","body":"checker )"
    + what.client_msg_id + R"("}})");
  auto deadline = op.sent + opts_.answer_timeout;
  bool answered = false;
  while (sent && !answered) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    auto text = ws_->read(static_cast<int>(left.count()));
    if (!text)
      break;  // timed out, or the connection closed
    auto frame = parse(*text);
    if (!frame || frame->request_id() != request_id)
      continue;  // a push of someone else's message, or a late answer given up on
    answered = true;
    if (frame->has_ack()) {
      op.what = chat_op::outcome::ok;
      op.seq = frame->ack().seq();
    } else if (frame->has_error()) {
      op.what = chat_op::outcome::error;
      op.code = frame->error().code();
    }
  }
  if (!answered)
    ws_.reset();  // a connection that swallowed a request is not trusted: the next send reconnects
  if (op.what != chat_op::outcome::ok) {
    pending_.push_back(what);
    if (pending_.size() > opts_.max_pending)
      pending_.pop_front();  // moved on: never retried, its outcome may be present or absent
  }
  ops_.push_back(std::move(op));
}

} // namespace parley::test
