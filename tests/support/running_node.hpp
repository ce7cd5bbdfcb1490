// A real node on a free loopback port with a temporary (or given) data directory, and a chat
// client speaking JSON frames to it, for integration tests.
#pragma once

#include "node/node.hpp"
#include "proto/parley.pb.h"
#include "support/chat_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_client.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <memory>
#include <string>
#include <vector>

namespace parley::test {

extern const std::string test_secret;

struct running_node {
  std::unique_ptr<temp_dir> own_dir;
  std::string data_dir;
  std::unique_ptr<node::node> n;

  // A node with a fresh data directory.
  explicit running_node(const std::vector<std::string>& overrides = {});
  // A node on an existing data directory (a restart).
  running_node(const std::string& dir, const std::vector<std::string>& overrides);

  uint16_t port() const { return n->port(); }

private:
  void start(const std::vector<std::string>& overrides);
};

std::unique_ptr<ws_client> connect(running_node& node, const std::string& user = "alice");

// A token signed with test_secret, valid for an hour (for roles and tiers dev tokens lack).
std::string signed_token(const std::string& user, const std::string& role = {},
                         const std::string& tier = {});
// The Authorization header carrying `token`, for http_call.
std::map<std::string, std::string> bearer(const std::string& token);

// A REST body as `Message` (protobuf JSON, unknown fields ignored); fails the test if it is not.
template <class Message>
Message parse_json(const std::string& json) {
  Message m;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  INFO(json);
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &m, opts).ok());
  return m;
}

// The value of the /metrics line that starts with `line_prefix` (name and labels), -1 if absent.
int64_t metric_value(running_node& node, const std::string& line_prefix);

} // namespace parley::test
