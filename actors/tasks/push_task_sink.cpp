#include "actors/tasks/push_task_sink.hpp"

#include "actors/runtime/ask.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/task_ids.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace parley::tasks {

namespace {

constexpr size_t preview_bytes = 100;
// A create is one durable write on the key's shard. Bounded: a node shutting down waits for
// the asks in flight.
constexpr auto create_timeout = std::chrono::seconds{10};

// Cuts at 100 bytes without splitting a UTF-8 sequence.
std::string preview_of(const std::string& body) {
  if (body.size() <= preview_bytes)
    return body;
  size_t cut = preview_bytes;
  while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80)
    --cut;
  return body.substr(0, cut);
}

} // namespace

google::protobuf::Value push_payload(const chat::push_notification& n) {
  google::protobuf::Value v;
  auto& fields = *v.mutable_struct_value()->mutable_fields();
  fields["user_id"].set_string_value(n.user_id);
  fields["conversation_id"].set_string_value(n.conversation_id);
  fields["sender_id"].set_string_value(n.sender_id);
  fields["seq"].set_number_value(static_cast<double>(n.seq));
  fields["count"].set_number_value(static_cast<double>(n.count));
  fields["preview"].set_string_value(preview_of(n.preview));
  fields["sent_at_ms"].set_number_value(static_cast<double>(n.sent_at_ms));
  return v;
}

void push_task_sink::push(const chat::push_notification& n) {
  static auto& pushes = metrics::global().get_counter("chat_push_notifications_total",
                                                      "Push notifications for offline members");
  pushes.inc();
  pb::CreateTask msg;
  *msg.mutable_caller() = node_caller();  // pushes belong to the node: only admins see them
  auto& req = *msg.mutable_request();
  req.set_task_type("push");
  *req.mutable_payload() = push_payload(n);
  req.mutable_retry_policy()->set_max_retries(5);
  req.mutable_retry_policy()->set_initial_delay_sec(5);
  req.set_timeout_sec(30);
  req.set_idempotency_key("push:" + n.user_id + ":" + n.conversation_id + ":"
                          + std::to_string(n.seq));
  // The node's keys are unscoped (task_store::scoped_key): the key itself picks the shard.
  auto shard = shard_of(req.idempotency_key());
  runtime::ask_entity<task_shard_api>(
    sys_, shard_at(*ctx_, shard), create_timeout, [](pb::CreatedTask&) {},
    [user = n.user_id](caf::error& e) {
      spdlog::warn("push for {} not queued: {}", user, to_fault(e).message);
    },
    create_atom_v, std::move(msg));
}

} // namespace parley::tasks
