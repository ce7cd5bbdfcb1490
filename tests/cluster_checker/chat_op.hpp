// One chat send as the checker saw it: what was sent where, and what became of it (ack with a
// seq, an error code, or no answer in time). The checker's verdict is judged on these alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace parley::test {

struct chat_op {
  enum class outcome : uint8_t { ok, error, timeout };

  std::string user;
  uint32_t node = 0;            // the node the sender was connected to
  std::string conversation;
  std::string client_msg_id;
  bool retry = false;           // a send of a client_msg_id sent before
  std::chrono::steady_clock::time_point sent;
  outcome what = outcome::timeout;
  uint64_t seq = 0;             // ok
  std::string code;             // error
};

} // namespace parley::test
