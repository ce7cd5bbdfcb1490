// What chat actors share on a node: options, the routing table, the chat store (reads) and the
// actors for durable writes, entity lookup and presence; in a cluster, the view of the others.
#pragma once

#include "actors/runtime/storage_writer.hpp"
#include "actors/chat/chat_api.hpp"
#include "actors/chat/cluster_view.hpp"
#include "actors/chat/group_quota.hpp"
#include "actors/chat/push_sink.hpp"
#include "actors/chat/routing_table.hpp"
#include "common/clock.hpp"
#include "storage/chat_store.hpp"

#include <caf/actor.hpp>

#include <cstddef>
#include <memory>
#include <vector>

namespace parley::chat {

// configs/node.toml [chat] mirrors this struct.
struct chat_options {
  // Most members of a group, creator included. Default: 500
  size_t max_group_members = 500;
  // Largest message body in bytes (UTF-8). Default: 16384
  size_t max_body_bytes = 16384;
  // Longest group title in bytes. Default: 200
  size_t max_title_bytes = 200;
  // Groups one user may create per sliding hour; more get rate_limited. Default: 50
  int64_t max_groups_created_per_hour = 50;
  // Groups one user may belong to (created or added); more get too_large. Default: 1000
  size_t max_groups_per_user = 1000;
};

enum class presence_visibility { contacts, all };

// configs/node.toml [presence] mirrors this struct.
struct presence_options {
  // Who sees a user's presence: "contacts" (users sharing a conversation) or "all".
  // Default: contacts
  presence_visibility visibility = presence_visibility::contacts;
  // Users one connection may subscribe to; more get too_large. Default: 5000
  size_t max_subscriptions = 5000;
  // Subscriptions of one user over all its connections; more get too_large. Default: 20000
  size_t max_subscriptions_per_user = 20000;
};

struct chat_context {
  chat_options opts;
  presence_options presence_opts;
  std::unique_ptr<group_quota> quota;  // per-user group limits
  routing_table routes;
  storage::chat_store* store = nullptr;
  std::shared_ptr<push_sink> pushes;  // offline members' notifications
  caf::actor registry;        // virtual actors: kind "conv"
  runtime::storage_writer_api storage_writer;  // durable writes
  presence_api presence;      // presence subscriptions and last_seen
  std::vector<chat_reader_api> readers;  // per-user index reads of connections (chat_reader.hpp)
  clock_fn clock = unix_ms;   // conversation actors' "now": sent_at, dedup window, quotas
  // In a cluster: sessions on other nodes and their chat services (null on a single node).
  std::shared_ptr<cluster_view> cluster;

  // True while `user` has a connection on this node or, in a cluster, on any other.
  bool online(const std::string& user) const {
    return routes.online(user) || (cluster && cluster->online(user));
  }
};

using chat_context_ptr = std::shared_ptr<chat_context>;

// The registry kind of conversation actors.
constexpr const char* conversation_kind = "conv";

} // namespace parley::chat
