// Connections that asked for live feed items (`feed_subscribe`): user -> the sinks of their
// subscribed connections, and, for pulled authors (whose posts are not fanned out), author ->
// the subscribed users who follow them ("watchers"), so that a celebrity's post reaches its live
// followers without walking every subscriber. A fan-out worker pushes a `feed_item` frame to the
// followers it walks (fanned-out posts) or to the watchers (pulled posts); the subscription ends
// with the connection. live_subscriptions.hpp keeps the watchers in step with follows; use its
// functions rather than subscribe/unsubscribe directly.
//
// A node-local table: the sinks are this node's sockets and never travel in a message; actors
// that work on it (the follow graph, fan-out workers) are told user ids and look the rest up here.
#pragma once

#include "actors/connection/outbound_sink.hpp"
#include "common/sharded_map.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace parley::feed {

class live_feeds {
public:
  // True when this is the user's first subscribed connection.
  bool subscribe(const std::string& user, const std::string& session_id,
                 std::weak_ptr<outbound_sink> sink);
  // Removes the connection; after the user's last one, also their watches.
  void unsubscribe(const std::string& user, const std::string& session_id);

  // Makes `user` a watcher of `author` if the user is still subscribed (checked under the same
  // lock as unsubscribe, so a watch that arrives late never outlives the subscription).
  void watch(const std::string& author, const std::string& user);
  void unwatch(const std::string& author, const std::string& user);
  std::vector<std::string> watchers_of(const std::string& author) const;
  // The live sinks of `user` (empty for most users: one lock and one hash lookup).
  std::vector<std::shared_ptr<outbound_sink>> sinks_of(const std::string& user);
  size_t subscribed_users() const;
  std::vector<std::string> subscribed_user_ids() const;

private:
  struct subscription {
    std::string session_id;
    std::weak_ptr<outbound_sink> sink;
  };
  sharded_map<std::string, std::vector<subscription>> users_{16};
  // Changed on subscribe, unsubscribe and follows of pulled authors; read per pulled post.
  mutable std::mutex watch_mtx_;
  std::unordered_map<std::string, std::unordered_set<std::string>> watchers_;  // author -> users
  std::unordered_map<std::string, std::unordered_set<std::string>> watching_;  // user -> authors
};

} // namespace parley::feed
