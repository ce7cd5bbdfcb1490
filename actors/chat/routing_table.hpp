// The routing table: user -> live connections on this node (ARCHITECTURE.md). Conversation
// actors look members up here to push messages; presence is derived from it. Lookups are local
// memory under a sharded lock. In a cluster this node is the single writer of its entries in the
// replicated table: a listener (the route replicator) hears of every change.
#pragma once

#include "actors/connection/outbound_sink.hpp"
#include "common/sharded_map.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parley::chat {

// One live connection of a user: the device it speaks for and the socket to write to.
struct route {
  std::string session_id;
  std::string device_id;
  std::weak_ptr<outbound_sink> sink;
};

class routing_table {
public:
  // A session of `user` added (or its device replaced) or removed. Called on the thread that
  // changed it, after the table's lock is released; one session's changes come from its own
  // connection actor, so they are heard in order.
  using change_listener = std::function<void(const std::string& user, const std::string& session,
                                             const std::string& device, bool added)>;

  // Set once, before the first connection (node start-up); none on a single node.
  void listen(change_listener listener) { listener_ = std::move(listener); }

  // Adds or replaces (same session id) a route; true when the user just came online.
  bool add(const std::string& user, route r);

  // Removes a session's route; true when that was the user's last one (now offline).
  bool remove(const std::string& user, const std::string& session_id);

  std::vector<route> routes_of(const std::string& user) const;
  // The route of one connection of `user`, if it is still open.
  std::optional<route> route_of(const std::string& user, const std::string& session_id) const;
  bool online(const std::string& user) const;

  // Users with at least one route.
  size_t online_users() const;
  std::vector<std::string> online_user_ids() const;

private:
  sharded_map<std::string, std::vector<route>> users_{16};
  change_listener listener_;
};

} // namespace parley::chat
