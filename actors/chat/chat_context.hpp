// What chat actors share on a node: options, the routing table, the chat store (reads) and the
// actors for durable writes, entity lookup and presence.
#pragma once

#include "actors/chat/push_sink.hpp"
#include "actors/chat/routing_table.hpp"
#include "storage/chat_store.hpp"

#include <caf/actor.hpp>

#include <cstddef>
#include <memory>

namespace parley::chat {

// configs/node.toml [chat] mirrors this struct.
struct chat_options {
  // Most members of a group, creator included. Default: 500
  size_t max_group_members = 500;
  // Largest message body in bytes (UTF-8). Default: 16384
  size_t max_body_bytes = 16384;
  // Longest group title in bytes. Default: 200
  size_t max_title_bytes = 200;
};

struct chat_context {
  chat_options opts;
  routing_table routes;
  storage::chat_store* store = nullptr;
  std::shared_ptr<push_sink> pushes;  // offline members' notifications
  caf::actor registry;        // virtual actors: kind "conv"
  caf::actor storage_writer;  // durable writes
  caf::actor presence;        // presence subscriptions and last_seen
};

using chat_context_ptr = std::shared_ptr<chat_context>;

// The registry kind of conversation actors.
constexpr const char* conversation_kind = "conv";

} // namespace parley::chat
