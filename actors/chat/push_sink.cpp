#include "actors/chat/push_sink.hpp"

#include "common/json_text.hpp"
#include "common/metrics.hpp"

#include <spdlog/spdlog.h>

namespace parley::chat {

namespace {

// Cuts at 100 bytes without splitting a UTF-8 sequence.
std::string preview_of(const std::string& body) {
  if (body.size() <= 100)
    return body;
  size_t cut = 100;
  while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80)
    --cut;
  return body.substr(0, cut);
}

} // namespace

jsonl_push_sink::jsonl_push_sink(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {
  if (!file_)
    spdlog::error("push sink: cannot open {}; push notifications are dropped", path);
}

jsonl_push_sink::~jsonl_push_sink() {
  if (file_)
    std::fclose(file_);
}

void jsonl_push_sink::push(const push_notification& n) {
  static auto& pushes = metrics::global().get_counter("chat_push_notifications_total",
                                                      "Push notifications for offline members");
  pushes.inc();
  auto line = "{\"user_id\":" + json_quote(n.user_id) + ",\"conversation_id\":"
              + json_quote(n.conversation_id) + ",\"sender_id\":" + json_quote(n.sender_id)
              + ",\"seq\":" + std::to_string(n.seq) + ",\"count\":" + std::to_string(n.count)
              + ",\"preview\":" + json_quote(preview_of(n.preview))
              + ",\"sent_at_ms\":" + std::to_string(n.sent_at_ms) + "}\n";
  std::lock_guard<std::mutex> guard{mtx_};
  if (!file_)
    return;
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

} // namespace parley::chat
