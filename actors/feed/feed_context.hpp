// What the news feed's actors and the edge's feed handlers share on a node: options, the store,
// the in-memory structures read on every request (active timelines, post cache, pulled authors,
// live subscribers) and the actors that write (docs/feed.md).
#pragma once

#include "actors/runtime/storage_writer.hpp"
#include "actors/feed/feed_api.hpp"
#include "actors/feed/known_users.hpp"
#include "actors/feed/live_feeds.hpp"
#include "actors/feed/post_cache.hpp"
#include "actors/feed/pulled_authors.hpp"
#include "actors/feed/pulled_posts.hpp"
#include "actors/feed/ranking.hpp"
#include "actors/feed/timeline_table.hpp"
#include "actors/runtime/entity_request.hpp"
#include "actors/runtime/service_router.hpp"
#include "storage/feed_store.hpp"

#include <caf/actor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace parley::chat {
class cluster_view;
}

namespace parley::feed {

// configs/node.toml [feed] mirrors this struct.
struct feed_options {
  // Authors with at least this many followers are not fanned out; readers pull their posts.
  // Default: 10000
  uint64_t celebrity_threshold = 10000;
  // Post ids kept per materialized feed. Default: 500
  size_t max_items = 500;
  // Followers who have not read their feed for this many days are skipped by fan-out and get
  // their feed rebuilt when they come back (0: nobody counts as active once a read is done;
  // for tests). Default: 7
  int active_days = 7;
  // Recent posts taken per followed author when a feed is rebuilt or merged. Default: 50
  size_t posts_per_author = 50;
  // Fan-out workers (each author's posts go through one of them, in order). Default: 2
  int fanout_workers = 2;
  // Posts kept in the post cache. Default: 200000
  size_t post_cache_entries = 200000;
  ranking_weights ranking;

  int64_t active_window_ms() const { return int64_t{active_days} * 86'400'000; }
};

constexpr const char* feed_kind = "feed";
constexpr const char* post_shard_kind = "post_shard";
// Posts live in the shard of their author (id_shard(author)); the post id is drawn so that it
// hashes to the same shard, so a like or delete finds the owner without a lookup. Part of the
// on-disk format of post ids, hence a constant.
constexpr uint32_t post_shard_count = 16;

struct feed_context {
  feed_options opts;
  storage::feed_store* store = nullptr;
  timeline_table timelines;
  post_cache posts;
  pulled_authors pulled;
  pulled_posts pulled_recent;
  live_feeds live;
  known_users known;  // make_known: users the graph actor has already been told about
  runtime::storage_writer_api storage_writer;
  caf::actor registry;              // feed actors (feed_kind) and post shards (post_shard_kind)
  graph_api graph;                  // follow graph and user records: graph_actor.hpp
  std::vector<fanout_api> fanout;   // fan-out workers: fanout_worker.hpp
  // In a cluster: which node holds a user's records and a post shard's posts, and the other
  // nodes' graphs and fan-out services. Null: a single node (everything here).
  runtime::service_router_ptr router;
  // In a cluster: every user's sessions on other nodes (the replicated routing table, as the
  // route replicator publishes it into the chat context), so that live items reach a subscriber
  // connected to another node than the one holding their records. Null: a single node.
  std::shared_ptr<const chat::cluster_view> sessions;

  explicit feed_context(feed_options o) : opts(std::move(o)), posts(opts.post_cache_entries) {}

  bool clustered() const { return router && router->clustered(); }
  // Whether `user`'s record, follows and followers (and feed actor) live on this node.
  bool user_here(const std::string& user) const {
    return !clustered() || router->here(graph_service, user);
  }
  // Whether post shard `shard`'s posts are stored on this node.
  bool shard_here(uint32_t shard) const {
    return !clustered() || router->here(post_shard_kind, std::to_string(shard));
  }
  // The follow graph that holds `user`'s records: this node's, or the owner's stand-in.
  caf::expected<graph_api> graph_for(const std::string& user) const {
    if (!clustered())
      return graph;
    return router->route_as<graph_api>(graph_service, user);
  }

  // Where the feed actor of `user` and post shard `shard` live (feed_api.hpp).
  runtime::entity_address feed_of(const std::string& user) const {
    return {registry, feed_kind, user};
  }
  runtime::entity_address post_shard(uint32_t shard) const {
    return {registry, post_shard_kind, std::to_string(shard)};
  }
};

using feed_context_ptr = std::shared_ptr<feed_context>;

// How long a post record another node's post shard sent is used before it is read there again:
// its counters and its deletion reach other nodes' feeds within this. 5 s
constexpr int64_t remote_post_ms = 5000;

} // namespace parley::feed
