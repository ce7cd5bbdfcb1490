// What the URL shortener's actors and the edge's link handlers share: options, the store, the
// redirect cache, the click queue and the actors (link service, click aggregator).
#pragma once

#include "actors/runtime/storage_writer.hpp"
#include "actors/links/click_queue.hpp"
#include "actors/links/link_cache.hpp"
#include "actors/links/links_api.hpp"
#include "actors/runtime/service_router.hpp"
#include "storage/link_store.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>

namespace parley::links {

struct link_options {
  // Links kept in the redirect cache (all shards together). Default: 100000
  size_t cache_entries = 100000;
  // Clicks waiting for the aggregator; past this clicks are dropped and counted. Default: 65536
  size_t click_queue_capacity = 65536;
  // How often the aggregator writes click statistics. Default: 250 ms
  std::chrono::milliseconds stats_flush{250};
  // How often expired links are purged (turned into tombstones). Default: 60 s
  std::chrono::seconds purge_interval{60};
  // Keys the key pool reserves per durable batch. Default: 256
  size_t key_batch = 256;
  // Prefix of short_url, e.g. "https://prly.example"; empty: "http://<Host header>". Default: ""
  std::string base_url;
};

struct links_context {
  link_options opts;
  storage::link_store* store = nullptr;
  link_cache cache;
  click_queue clicks;
  runtime::storage_writer_api storage_writer;
  link_service_api service;  // the key space's owner, and reads of the store: link_service.hpp
  caf::actor aggregator;     // click statistics: click_aggregator.hpp
  // First path segments an alias may not take: the router's own plus a fixed list.
  std::set<std::string> reserved_segments;
  // In a cluster: which node owns each key, and the other nodes' link services. Null: a single
  // node (every key is here).
  runtime::service_router_ptr router;

  explicit links_context(link_options o)
    : opts(std::move(o)), cache(opts.cache_entries), clicks(opts.click_queue_capacity) {}

  bool clustered() const { return router && router->clustered(); }
  // Whether `key`'s link lives on this node.
  bool owns(const std::string& key) const {
    return !router || router->here(link_service_name, key);
  }
  // The link service that owns `key`: this node's, or a stand-in for the owner's;
  // `unavailable` while the key has no live owner.
  caf::expected<link_service_api> service_for(const std::string& key) const {
    if (!clustered())
      return service;
    return router->route_as<link_service_api>(link_service_name, key);
  }
};

// How long a redirect cache entry filled from another node's answer is used before the owner is
// asked again: the owner tells every node when it deletes a link, and this bounds what a lost
// message leaves behind. 30 s
constexpr int64_t remote_cache_ms = 30'000;

using links_context_ptr = std::shared_ptr<links_context>;

} // namespace parley::links
