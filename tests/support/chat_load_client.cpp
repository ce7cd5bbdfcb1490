#include "support/chat_load_client.hpp"

#include "proto/parley.pb.h"

#include <google/protobuf/util/json_util.h>

namespace parley::test {

namespace {

using clock_type = std::chrono::steady_clock;

// A send that got no answer at all in this long is sent again (same client_msg_id). The node
// answers every request within cluster.request_timeout_ms (5 s), so this only fires when an
// answer was lost; the test asserts it never does.
constexpr auto unanswered_after = std::chrono::seconds{10};

std::string send_json(const std::string& cmid, const chat_target& to, const std::string& body) {
  std::string where = to.conversation_id.empty()
                        ? R"("to_user":")" + to.to_user + '"'
                        : R"("conversation_id":")" + to.conversation_id + '"';
  return R"({"request_id":")" + cmid + R"(","send":{)" + where + R"(,"client_msg_id":")" + cmid
         + R"(","body":")" + body + R"("}})";
}

bool parse(const std::string& text, pb::ServerFrame& out) {
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  return google::protobuf::util::JsonStringToMessage(text, &out, opts).ok();
}

} // namespace

chat_load_client::chat_load_client(std::string name, const std::string& host, uint16_t port,
                                   const std::string& user, const std::string& device,
                                   std::vector<chat_target> targets)
  : name_(std::move(name)), user_(user), targets_(std::move(targets)),
    ws_(std::make_unique<ws_client>()) {
  auto token = dev_token(host, port, user);
  if (token.empty() || ws_->connect(host, port, "/ws", token) != 101) {
    connect_error_ = name_ + ": the WebSocket upgrade failed";
    return;
  }
  // The welcome, then the answer to hello; a message pushed before that is kept (a client
  // that joins a busy conversation may be pushed to at once).
  ws_->send_text(R"({"request_id":"hello","hello":{"device_id":")" + device + R"("}})");
  while (true) {
    auto text = ws_->read(5000);
    if (!text) {
      connect_error_ = name_ + ": no welcome: " + ws_->last_error();
      return;
    }
    pb::ServerFrame f;
    if (!parse(*text, f)) {
      connect_error_ = name_ + ": unparsable frame " + *text;
      return;
    }
    if (f.has_welcome() && f.request_id() == "hello")
      return;
    if (!f.has_welcome())
      handle(*text);
  }
}

chat_load_client::~chat_load_client() {
  stop();
}

load_record chat_load_client::record() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return rec_;
}

void chat_load_client::start(const std::shared_ptr<std::atomic<int64_t>>& interval_ms) {
  interval_ms_ = interval_ms;
  thread_ = std::thread{[this] { run(); }};
}

void chat_load_client::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
}

void chat_load_client::send_pending() {
  pending_since_ = clock_type::now();
  waiting_retry_ = false;
  if (!ws_->try_send_text(pending_json_)) {
    std::lock_guard<std::mutex> guard{mutex_};
    rec_.failures.push_back(name_ + ": the connection dropped while sending");
  }
}

void chat_load_client::run() {
  auto next_send = clock_type::now();
  while (!stopping_) {
    auto now = clock_type::now();
    if (pending_id_.empty() && sending_ && now >= next_send) {
      auto& to = targets_[next_msg_ % targets_.size()];
      pending_id_ = name_ + "-" + std::to_string(next_msg_++);
      pending_json_ = send_json(pending_id_, to, "load " + pending_id_);
      {
        std::lock_guard<std::mutex> guard{mutex_};
        ++rec_.sends;
        rec_.in_flight = true;
      }
      send_pending();
      next_send = now + std::chrono::milliseconds{interval_ms_->load()};
    } else if (!pending_id_.empty() && waiting_retry_ && now >= retry_at_) {
      send_pending();
    } else if (!pending_id_.empty() && !waiting_retry_ && now - pending_since_ > unanswered_after) {
      {
        std::lock_guard<std::mutex> guard{mutex_};
        ++rec_.unanswered;
      }
      send_pending();
    }
    auto text = ws_->read(5);
    if (!text) {
      if (ws_->last_error() != "timeout") {
        std::lock_guard<std::mutex> guard{mutex_};
        rec_.failures.push_back(name_ + ": the connection dropped: " + ws_->last_error()
                                + " (close code " + std::to_string(ws_->close_code()) + ")");
        rec_.in_flight = false;
        return;
      }
      continue;
    }
    handle(*text);
  }
}

void chat_load_client::handle(const std::string& text) {
  pb::ServerFrame f;
  std::lock_guard<std::mutex> guard{mutex_};
  if (!parse(text, f)) {
    rec_.failures.push_back(name_ + ": unparsable frame " + text);
    return;
  }
  if (f.has_message()) {
    auto& m = f.message();
    rec_.received.push_back({m.conversation_id(), m.seq(), m.client_msg_id()});
    return;
  }
  // Answers to an earlier attempt of a send already acknowledged are the same ack (idempotent
  // send) and are not counted again.
  if (pending_id_.empty() || f.request_id() != pending_id_)
    return;
  if (f.has_ack()) {
    rec_.acked.push_back({f.ack().conversation_id(), f.ack().seq(), f.ack().client_msg_id()});
    rec_.in_flight = false;
    pending_id_.clear();
  } else if (f.has_error() && f.error().code() == "unavailable") {
    ++rec_.unavailable;
    waiting_retry_ = true;
    retry_at_ = clock_type::now() + std::chrono::milliseconds{f.error().retry_after_ms()};
  } else if (f.has_error()) {
    rec_.failures.push_back(name_ + ": " + pending_id_ + " answered " + f.error().code() + ": "
                            + f.error().message());
    rec_.in_flight = false;
    pending_id_.clear();
  }
}

} // namespace parley::test
