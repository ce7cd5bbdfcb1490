#include "support/chat_client.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <chrono>

namespace parley::test {

pb::ServerFrame parse_json_frame(const std::string& text) {
  pb::ServerFrame f;
  google::protobuf::util::JsonParseOptions opts;
  INFO(text);
  REQUIRE(google::protobuf::util::JsonStringToMessage(text, &f, opts).ok());
  return f;
}

pb::ServerFrame read_frame(ws_client& ws) {
  auto text = ws.read();
  REQUIRE(text);
  if (ws.last_was_binary()) {
    pb::ServerFrame f;
    REQUIRE(f.ParseFromString(*text));
    return f;
  }
  return parse_json_frame(*text);
}

chat_client::chat_client(const std::string& host, uint16_t port, const std::string& user,
                         const std::string& device)
  : user_(user), ws_(std::make_unique<ws_client>()) {
  REQUIRE(ws_->connect(host, port, "/ws", dev_token(host, port, user)) == 101);
  auto welcome = read_frame(*ws_);
  REQUIRE(welcome.has_welcome());
  session_ = welcome.welcome().session_id();
  if (!device.empty()) {
    auto w = call(R"({"request_id":"@","hello":{"device_id":")" + device + R"("}})");
    REQUIRE(w.has_welcome());
  }
}

void chat_client::send(const std::string& json) {
  ws_->send_text(json);
}

pb::ServerFrame chat_client::call(const std::string& json) {
  auto at = json.find("\"request_id\":\"");
  REQUIRE(at != std::string::npos);
  at += 14;
  auto id = json.substr(at, json.find('"', at) - at);
  send(json);
  return next([&](const pb::ServerFrame& f) { return f.request_id() == id; });
}

pb::ServerFrame chat_client::next(const std::function<bool(const pb::ServerFrame&)>& match) {
  for (auto it = stash_.begin(); it != stash_.end(); ++it)
    if (match(*it)) {
      auto f = *it;
      stash_.erase(it);
      return f;
    }
  for (int i = 0; i < 100000; ++i) {
    auto text = ws_->read(5000);
    INFO("user " << user_ << ": no matching frame; last error " << ws_->last_error());
    REQUIRE(text);
    auto f = parse_json_frame(*text);
    if (match(f))
      return f;
    stash_.push_back(std::move(f));
  }
  FAIL("too many unmatched frames");
  return {};
}

pb::ServerFrame chat_client::next_message() {
  return next([](const pb::ServerFrame& f) { return f.has_message(); });
}

bool chat_client::none_within(int ms, const std::function<bool(const pb::ServerFrame&)>& match) {
  for (auto& f : stash_)
    if (match(f))
      return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{ms};
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    auto text = ws_->read(static_cast<int>(std::max<long>(left, 1)));
    if (!text)
      return true;
    auto f = parse_json_frame(*text);
    if (match(f))
      return false;
    stash_.push_back(std::move(f));
  }
  return true;
}

} // namespace parley::test
