// What every session of the edge shares: options, the route table, the actor system, the live
// WebSocket sessions (for the idle reaper and the SIGTERM drain) and the readiness flag.
// Sessions never share mutable domain state; that lives in actors.
#pragma once

#include "actors/chat/chat_context.hpp"
#include "actors/connection/connection_actor.hpp"
#include "actors/feed/feed_context.hpp"
#include "actors/limits/limiter.hpp"
#include "actors/links/links_context.hpp"
#include "actors/runtime/service_router.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "net/connection_limit.hpp"
#include "net/edge_options.hpp"
#include "net/router.hpp"

#include <caf/fwd.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace parley::net {

class websocket_session;

// The set of open WebSocket sessions. Registration costs one hash node per connection.
class session_tracker {
public:
  void add(const std::shared_ptr<websocket_session>& s);
  void remove(const websocket_session* s);
  size_t size() const;

  // Calls `fn` on each live session (outside the lock).
  template <class F>
  void for_each(F fn) const {
    std::vector<std::shared_ptr<websocket_session>> live;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      live.reserve(sessions_.size());
      for (auto& [ptr, weak] : sessions_)
        if (auto s = weak.lock())
          live.push_back(std::move(s));
    }
    for (auto& s : live)
      fn(*s);
  }

private:
  mutable std::mutex mtx_;
  std::unordered_map<const websocket_session*, std::weak_ptr<websocket_session>> sessions_;
};

struct edge_context {
  edge_options opts;
  caf::actor_system& sys;
  std::string node_id;
  router routes;
  session_tracker sessions;
  connection_limit per_ip;  // open TCP connections per client address
  std::atomic<bool> ready{false};
  // Asked by every /readyz besides `ready` (none: not asked), for a condition that changes with
  // time alone and must show at once. In a cluster: the write fence is open (a lease renewal
  // recent enough), which the cluster's readiness loop would report only after its next etcd
  // read, seconds late when etcd is unreachable. Set before start(); called on io threads.
  std::function<bool()> ready_check;
  std::atomic<bool> draining{false};
  // Lame duck (admin `node drain`): /readyz answers 503 and WebSocket upgrades are refused while
  // HTTP goes on (the operator's undrain, the load balancer's probes).
  std::atomic<bool> lame_duck{false};
  // False on the admin listener (admin.listen): it serves the admin API and page, never /ws.
  bool websockets = true;
  chat::chat_context_ptr chat;  // handed to every connection actor
  links::links_context_ptr links;
  feed::feed_context_ptr feed;
  tasks::tasks_context_ptr tasks;
  std::shared_ptr<limits::rate_limiter> limiter;  // checked inline on HTTP requests and frames
  // In a cluster: the owners of keys (cluster-scoped rate limits are counted there). Null on a
  // single node.
  runtime::service_router_ptr services;
  // Runs a request whose body is larger than large_body_bytes on a thread of its own: parsing
  // 1 MiB of JSON takes up to ~450 ms (bench/json_bodies.sh), and an io thread doing it would
  // stall every connection it serves. Set by the server.
  std::function<void(std::function<void()>)> offload;
  static constexpr size_t large_body_bytes = 64 << 10;
  // The rules file that PUT /api/v1/admin/ratelimits rewrites (empty: not persisted).
  std::string rate_limit_rules_file;

  edge_context(edge_options o, caf::actor_system& s, std::string node)
    : opts(std::move(o)), sys(s), node_id(std::move(node)),
      per_ip(opts.server.max_connections_per_ip) {}

  // What every connection actor shares, made on the first WebSocket: chat, feed and limiter are
  // set by then (before the server accepts).
  std::shared_ptr<const connection_services> shared_by_connections() {
    std::call_once(connection_services_made_, [this] {
      auto s = std::make_shared<connection_services>();
      s->node = node_id;
      s->heartbeat_interval = opts.ws.heartbeat_interval;
      s->chat = chat;
      s->feed = feed;
      s->limiter = limiter;
      connection_services_ = std::move(s);
    });
    return connection_services_;
  }

private:
  std::once_flag connection_services_made_;
  std::shared_ptr<const connection_services> connection_services_;
};

} // namespace parley::net
