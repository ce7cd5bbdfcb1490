// Chat's push sink as tasks: each notification for an offline member becomes a `push` task
// (retried with backoff, dead-lettered when the provider keeps failing), executed by the
// node's built-in push executor. The idempotency key (user, conversation, seq) makes a
// notification that is produced twice one task.
#pragma once

#include "actors/chat/push_sink.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "proto/parley.pb.h"

namespace parley::tasks {

// The payload of a `push` task.
google::protobuf::Value push_payload(const chat::push_notification& n);

class push_task_sink : public chat::push_sink {
public:
  explicit push_task_sink(tasks_context_ptr ctx) : ctx_(std::move(ctx)) {}

  void push(const chat::push_notification& n) override;

private:
  tasks_context_ptr ctx_;
};

} // namespace parley::tasks
