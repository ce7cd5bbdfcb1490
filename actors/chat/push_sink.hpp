// Push notifications for members who are offline when a message is stored. The sink is an
// interface so that the task scheduler can turn pushes into retried `push` tasks; the default
// writes one JSON line per notification to <data_dir>/push.jsonl.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace parley::chat {

struct push_notification {
  std::string user_id;          // who should be notified
  std::string conversation_id;
  std::string sender_id;
  uint64_t seq = 0;             // the newest message
  uint64_t count = 0;           // messages stored for this user in one batch
  std::string preview;          // the newest message's body, cut to 100 bytes
  int64_t sent_at_ms = 0;
};

class push_sink {
public:
  virtual ~push_sink() = default;
  // Called from conversation actors; must not block for long.
  virtual void push(const push_notification& n) = 0;
};

class jsonl_push_sink : public push_sink {
public:
  // Appends to `path` (created if missing). A sink that cannot open its file logs once and
  // drops notifications: a push is best effort, the message itself is stored.
  explicit jsonl_push_sink(const std::string& path);
  ~jsonl_push_sink() override;

  void push(const push_notification& n) override;

private:
  std::mutex mtx_;
  std::FILE* file_ = nullptr;
};

} // namespace parley::chat
