// A chat user over a real WebSocket, for integration and cluster tests: JSON frames out, the
// frames a test expects in, the others kept for later. Works with an in-process node
// (support/running_node.hpp) or a parleyd process on any loopback address.
#pragma once

#include "proto/parley.pb.h"
#include "support/test_client.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace parley::test {

pb::ServerFrame parse_json_frame(const std::string& text);
pb::ServerFrame read_frame(ws_client& ws);

// A connected user: sends frames and waits for the ones a test expects, keeping the others.
class chat_client {
public:
  // Connects as `user` (a dev token from the same node) to host:port, then names the device.
  chat_client(const std::string& host, uint16_t port, const std::string& user,
              const std::string& device = {});

  // The same to any node with port() on 127.0.0.1 (support/running_node.hpp).
  template <class Node>
  chat_client(Node& node, const std::string& user, const std::string& device = {})
    : chat_client("127.0.0.1", node.port(), user, device) {}

  // Sends `json` (a ClientFrame with "request_id":"<id>") and returns the answer with that id.
  pb::ServerFrame call(const std::string& json);
  void send(const std::string& json);

  // The next frame that satisfies `match`, from earlier frames first; fails after 5 s.
  pb::ServerFrame next(const std::function<bool(const pb::ServerFrame&)>& match);
  pb::ServerFrame next_message();
  // True if no frame satisfying `match` arrives within `ms`.
  bool none_within(int ms, const std::function<bool(const pb::ServerFrame&)>& match);

  const std::string& user() const { return user_; }
  // The session id of the welcome.
  const std::string& session() const { return session_; }
  ws_client& socket() { return *ws_; }

private:
  std::string user_;
  std::string session_;
  std::unique_ptr<ws_client> ws_;
  std::deque<pb::ServerFrame> stash_;
  int next_id_ = 0;
};

} // namespace parley::test
