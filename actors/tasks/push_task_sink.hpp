// Chat's push sink as tasks: each notification for an offline member becomes a `push` task
// (retried with backoff, dead-lettered when the provider keeps failing), executed by the
// node's built-in push executor. The idempotency key (user, conversation, seq) makes a
// notification that is produced twice one task. Tasks are created through the key's task shard
// (task_shard_api's create_atom), asked from a short-lived actor so that the conversation actor
// calling push() waits for nothing.
#pragma once

#include "actors/chat/push_sink.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "proto/parley.pb.h"

#include <caf/fwd.hpp>

namespace parley::tasks {

// The payload of a `push` task.
google::protobuf::Value push_payload(const chat::push_notification& n);

class push_task_sink : public chat::push_sink {
public:
  push_task_sink(caf::actor_system& sys, tasks_context_ptr ctx) : sys_(sys), ctx_(std::move(ctx)) {}

  void push(const chat::push_notification& n) override;

private:
  caf::actor_system& sys_;
  tasks_context_ptr ctx_;
};

} // namespace parley::tasks
