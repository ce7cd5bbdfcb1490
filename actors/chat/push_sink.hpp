// Push notifications for members who are offline when a message is stored. The sink is an
// interface so that chat does not depend on how pushes are delivered: the node plugs in
// tasks::push_task_sink, which turns each notification into a retried `push` task.
#pragma once

#include <cstdint>
#include <string>

namespace parley::chat {

struct push_notification {
  std::string user_id;          // who should be notified
  std::string conversation_id;
  std::string sender_id;
  uint64_t seq = 0;             // the newest message
  uint64_t count = 0;           // messages stored for this user in one batch
  std::string preview;          // the newest message's body (the sink cuts it to 100 bytes)
  int64_t sent_at_ms = 0;
};

class push_sink {
public:
  virtual ~push_sink() = default;
  // Called from conversation actors; must not block.
  virtual void push(const push_notification& n) = 0;
};

} // namespace parley::chat
