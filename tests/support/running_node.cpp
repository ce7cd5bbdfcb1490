#include "support/running_node.hpp"

#include "net/auth.hpp"
#include "net/jwt.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

namespace parley::test {

const std::string test_secret = "integration-test-secret-0123456789";

running_node::running_node(const std::vector<std::string>& overrides)
  : own_dir(std::make_unique<temp_dir>()), data_dir(own_dir->path()) {
  start(overrides);
}

running_node::running_node(const std::string& dir, const std::vector<std::string>& overrides)
  : data_dir(dir) {
  start(overrides);
}

void running_node::start(const std::vector<std::string>& overrides) {
  spdlog::set_level(spdlog::level::warn);
  node::node_config cfg;
  node::apply_listen("127.0.0.1:0", cfg);
  node::apply_override("storage.data_dir=" + data_dir, cfg);
  node::apply_override("storage.sync=none", cfg);
  node::apply_override("auth.jwt_secret=" + test_secret, cfg);
  node::apply_override("auth.dev_tokens=true", cfg);
  node::apply_override("runtime.scheduler_threads=2", cfg);
  for (auto& o : overrides)
    node::apply_override(o, cfg);
  n = std::make_unique<node::node>(cfg);
  auto err = n->start();
  INFO(err.message);
  REQUIRE_FALSE(err);
}

std::string signed_token(const std::string& user, const std::string& role,
                         const std::string& tier) {
  net::jwt_claims c;
  c.sub = user;
  c.role = role;
  c.tier = tier;
  c.exp = net::unix_now() + 3600;
  return net::jwt_sign(c, test_secret);
}

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

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

std::unique_ptr<ws_client> connect(running_node& node, const std::string& user) {
  auto ws = std::make_unique<ws_client>();
  REQUIRE(ws->connect(node.port(), "/ws", dev_token(node.port(), user)) == 101);
  auto welcome = read_frame(*ws);
  REQUIRE(welcome.has_welcome());
  return ws;
}

chat_client::chat_client(running_node& node, const std::string& user, const std::string& device)
  : user_(user), ws_(connect(node, user)) {
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

int64_t metric_value(running_node& node, const std::string& line_prefix) {
  auto body = http_call(node.port(), "GET", "/metrics").body;
  auto at = body.find("\n" + line_prefix + " ");
  return at == std::string::npos ? -1 : std::stoll(body.substr(at + line_prefix.size() + 2));
}

} // namespace parley::test
