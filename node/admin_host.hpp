// What the admin console's commands reach on this node (node/admin_commands.cpp builds the
// handlers over it): the edge's sessions and drain, the registry, the chat routing table, the
// rate limiter, the ban list, the log level and the config reload. Built by node.cpp.
#pragma once

#include "actors/chat/chat_context.hpp"
#include "actors/limits/limiter.hpp"
#include "common/result.hpp"
#include "net/deny_list.hpp"
#include "net/server.hpp"
#include "node/cluster_member.hpp"
#include "node/mailbox_probe.hpp"
#include "node/node_sampler.hpp"
#include "storage/ban_store.hpp"
#include "storage/engine.hpp"

#include <caf/actor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace parley::node {

struct admin_host {
  std::string node_id;
  std::string version;
  int64_t started_at_ms = 0;  // unix ms
  caf::actor_system* sys = nullptr;
  net::server* server = nullptr;  // the public edge: its sessions, its drain
  caf::actor registry;
  // Actors that are not entities, by the kind node.top shows them under.
  named_actors singletons;
  chat::chat_context_ptr chat;
  std::shared_ptr<limits::rate_limiter> limiter;
  storage::ban_store* bans = nullptr;
  const storage::engine* db = nullptr;  // storage.partitions reads it
  // In a cluster: the registry's placement and cluster.partitions; null / 0 on a single node.
  std::shared_ptr<const runtime::placement_policy> placement;
  uint32_t partitions = 0;
  std::shared_ptr<net::deny_list> denied;
  std::shared_ptr<sample_history> history;  // node.samples
  std::string jwt_secret;  // for the short tokens that call the node's own REST handlers
  std::chrono::milliseconds answer_timeout{5000};
  std::chrono::milliseconds default_drain{30000};
  // Reloads the configuration as SIGHUP does; the names of the parts reloaded.
  std::function<result<std::vector<std::string>>()> reload;
  std::function<std::string()> log_level;
  // In a cluster: this node's view of it (members, partitions, links); null on a single node.
  std::function<cluster_member::status()> cluster;
};

using admin_host_ptr = std::shared_ptr<admin_host>;

} // namespace parley::node
