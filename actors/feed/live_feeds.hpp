// Connections that asked for live feed items (`feed_subscribe`): user -> the sinks of their
// subscribed connections. Fan-out workers look followers up here for every new post, whether the
// post is fanned out or pulled, and push a `feed_item` frame; the subscription ends with the
// connection.
#pragma once

#include "actors/connection/outbound_sink.hpp"

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::feed {

class live_feeds {
public:
  void subscribe(const std::string& user, const std::string& session_id,
                 std::weak_ptr<outbound_sink> sink);
  void unsubscribe(const std::string& user, const std::string& session_id);
  // The live sinks of `user` (empty for most users: one lock and one hash lookup).
  std::vector<std::shared_ptr<outbound_sink>> sinks_of(const std::string& user);
  size_t subscribed_users() const;
  std::vector<std::string> subscribed_user_ids() const;

private:
  struct subscription {
    std::string session_id;
    std::weak_ptr<outbound_sink> sink;
  };
  struct shard {
    mutable std::mutex mtx;
    std::unordered_map<std::string, std::vector<subscription>> users;
  };
  static constexpr size_t shard_count = 16;

  shard& shard_of(const std::string& user);

  std::array<shard, shard_count> shards_;
};

} // namespace parley::feed
