// What chat actors see of the other nodes of a cluster: the sessions of users connected
// elsewhere (the replicated routing table as the node's route replicator publishes it,
// cluster/routes/route_replicator.hpp) and each live peer's chat service. Conversations and
// presence read it from any thread without a message: the sessions in a sharded map, updated per
// user; the peers as an immutable map swapped whole. A single node has none
// (chat_context::cluster is null) and pays nothing for it.
#pragma once

#include "actors/chat/chat_api.hpp"
#include "common/sharded_map.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parley::chat {

// A session of a user on another node.
struct remote_session {
  std::string node_id;
  std::string session_id;
  std::string device_id;
};

// A session on a node that is implied by the context (the key of a per-node group).
struct node_session {
  std::string user_id;
  std::string session_id;
  std::string device_id;
};

using peer_map = std::map<std::string, chat_service_api>;

class cluster_view {
public:
  // -- constructors ----------------------------------------------------------------------------

  explicit cluster_view(std::string local_node) : local_node_(std::move(local_node)) {}

  // -- sessions on other nodes (the route replicator writes them) ------------------------------

  // Replaces `user`'s sessions on other nodes; an empty list removes the user.
  void set_sessions(const std::string& user, std::vector<remote_session> sessions);

  std::vector<remote_session> sessions_of(const std::string& user) const;

  // True when `user` has a session on another node.
  bool online(const std::string& user) const;

  // Users with a session on another node.
  size_t users() const { return sessions_.size(); }

  // The sessions of `users` (but `except_user`) on other nodes, grouped by node, each user once:
  // a push to several users of one node is one message to it.
  std::map<std::string, std::vector<node_session>>
  by_node(const std::vector<std::string>& users, const std::string& except_user = {}) const;

  // -- peers' chat services (the route replicator sets them as members come and go) -----------

  void set_peers(peer_map peers);

  // The chat service of a live peer; an empty handle for any other node.
  chat_service_api peer(const std::string& node) const;

  // Every live peer's chat service.
  std::shared_ptr<const peer_map> peers() const;

  // -- observers -------------------------------------------------------------------------------

  const std::string& local_node() const { return local_node_; }

private:
  std::string local_node_;
  sharded_map<std::string, std::vector<remote_session>> sessions_{16};
  mutable std::mutex peers_mtx_;
  std::shared_ptr<const peer_map> peers_ = std::make_shared<const peer_map>();
};

} // namespace parley::chat
