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

std::unique_ptr<ws_client> connect(running_node& node, const std::string& user) {
  auto ws = std::make_unique<ws_client>();
  REQUIRE(ws->connect(node.port(), "/ws", dev_token(node.port(), user)) == 101);
  auto welcome = read_frame(*ws);
  REQUIRE(welcome.has_welcome());
  return ws;
}

int64_t metric_value(running_node& node, const std::string& line_prefix) {
  auto body = http_call(node.port(), "GET", "/metrics").body;
  auto at = body.find("\n" + line_prefix + " ");
  return at == std::string::npos ? -1 : std::stoll(body.substr(at + line_prefix.size() + 2));
}

} // namespace parley::test
