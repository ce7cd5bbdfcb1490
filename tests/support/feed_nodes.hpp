// Two nodes of the news feed on one deterministic actor system, for the feed's cluster logic:
// each node has its own RocksDB, store, feed context, follow graph and fan-out worker, and a
// router whose stand-ins for the other node's services are that node's actual actors. Users
// whose names start with a..m belong to n1, the others to n2; every post shard is n1's.
#pragma once

#include "actors/feed/fanout_worker.hpp"
#include "actors/feed/graph_actor.hpp"
#include "storage/feed_store.hpp"
#include "support/deterministic_system.hpp"
#include "support/direct_writer.hpp"
#include "support/fake_placement.hpp"
#include "support/temp_db.hpp"

#include <array>
#include <memory>
#include <string>

namespace parley::test {

struct feed_node {
  std::string name;
  temp_db tdb;
  std::unique_ptr<storage::feed_store> store = std::make_unique<storage::feed_store>(*tdb.db);
  feed::feed_context_ptr ctx = std::make_shared<feed::feed_context>(feed::feed_options{});
  std::shared_ptr<fake_placement> view = std::make_shared<fake_placement>();
  caf::actor graph;
  caf::actor fanout;  // this node's fan-out service, as peers reach it
};

struct feed_nodes : deterministic_system {
  std::array<feed_node, 2> nodes;

  static std::string owner(std::string_view kind, std::string_view key) {
    if (kind == feed::post_shard_kind)
      return "n1";
    return !key.empty() && key[0] <= 'm' ? "n1" : "n2";
  }

  feed_nodes() {
    nodes[0].name = "n1";
    nodes[1].name = "n2";
    for (auto& n : nodes) {
      auto self = n.name;
      n.view->live = {"n1", "n2"};
      n.view->where = [self](std::string_view kind, std::string_view key) {
        auto at = owner(kind, key);
        return at == self ? runtime::entity_location{} : remote_at(at);
      };
      n.ctx->store = n.store.get();
      n.ctx->storage_writer = caf::actor_cast<runtime::storage_writer_api>(
        own(sys.spawn(direct_writer, n.tdb.db.get())));
      n.ctx->router = router_of(sys, self, n.view, [this](const std::string& service,
                                                          const std::string& node) {
        auto& peer = nodes[node == "n1" ? 0 : 1];
        return service == feed::graph_service ? peer.graph : peer.fanout;
      });
      n.ctx->graph = feed::spawn_graph_actor(sys, n.ctx);
      n.graph = own(caf::actor_cast<caf::actor>(n.ctx->graph));
      n.ctx->router->add(feed::graph_service, n.graph);
      n.ctx->fanout.push_back(feed::spawn_fanout_worker(sys, n.ctx));
      own(caf::actor_cast<caf::actor>(n.ctx->fanout.back()));
      n.fanout = own(caf::actor_cast<caf::actor>(feed::spawn_fanout_service(sys, n.ctx)));
      n.ctx->router->add(feed::fanout_service, n.fanout);
    }
    run();
  }

  ~feed_nodes() {
    stop();
    for (auto& n : nodes)
      n.ctx->router->stop();
  }

  feed_node& n1() { return nodes[0]; }
  feed_node& n2() { return nodes[1]; }
};

} // namespace parley::test
