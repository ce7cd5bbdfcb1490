// A cluster for tests: one real etcd and `size` parleyd processes n1..nN on loopback, each with
// its own data directory and peer-link port, all stopped (and their directories removed) when
// the test ends, also when it fails. Nodes listen on 127.0.0.1, or on 127.0.0.1, .2, .3, ...
// (`spread`), as separate machines would, or each in a network namespace of its own (`network`,
// support/netns_lab.hpp) so that links can be cut. add_node() starts one more member later (a
// join).
#pragma once

#include "cluster/partition_map_store.hpp"
#include "support/etcd_server.hpp"
#include "support/parleyd_process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_client.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace parley::test {

// Where node i runs when not on loopback: inside a network namespace, reached by the test on
// `client_host` (its HTTP listener), by its peers on `link_host` (its peer link).
struct node_network {
  std::vector<std::string> launcher;  // runs parleyd there (parleyd_process's `launcher`)
  std::string client_host;
  std::string link_host;
};

struct test_cluster_options {
  // Nodes started at once, and cluster.bootstrap_members of every node. Default: 3
  uint32_t size = 3;
  // cluster.partitions. Default: 32
  uint32_t partitions = 32;
  // cluster.lease_ttl_ms. Default: 3000 ms
  std::chrono::milliseconds lease_ttl{3000};
  // Node i on 127.0.0.(i+1) instead of all on 127.0.0.1. Default: false
  bool spread = false;
  // etcd's listening address (a network namespace lab's bridge). Default: 127.0.0.1
  std::string etcd_host = "127.0.0.1";
  // One entry per node to run the nodes in network namespaces (`spread` is then ignored); each
  // node's peer link listens on `network_link_port` of its own address. Default: none (loopback)
  std::vector<node_network> network;
  // More arguments for every node (e.g. {"--set", "ratelimit.rules_file=..."}).
  std::vector<std::string> args;
};

// The peer-link port of nodes in network namespaces: each namespace has its own ports.
constexpr uint16_t network_link_port = 9080;

struct test_cluster {
  test_cluster_options opts;
  etcd_server etcd;
  temp_dir dir;
  std::vector<uint16_t> link_ports;
  std::vector<std::unique_ptr<parleyd_process>> nodes;

  explicit test_cluster(test_cluster_options o = {});
  explicit test_cluster(uint32_t n) : test_cluster(sized(n)) {}
  // With PARLEY_TEST_LOGS=<dir> in the environment the nodes' logs are copied there (after the
  // nodes stopped; a restarted node's earlier runs first), for a failure that needs more than
  // the log tails.
  ~test_cluster();

  static test_cluster_options sized(uint32_t n) {
    test_cluster_options o;
    o.size = n;
    return o;
  }
  static std::string name(uint32_t i) { return "n" + std::to_string(i + 1); }
  // Where the test reaches node i's HTTP and WebSocket listener.
  std::string host(uint32_t i) const;
  uint16_t port(uint32_t i) const { return nodes[i]->port(); }
  parleyd_process& node(uint32_t i) { return *nodes[i]; }
  // Nodes started so far: the bootstrap members and those added since.
  uint32_t size() const { return static_cast<uint32_t>(nodes.size()); }

  // (Re)starts node i on its data directory.
  void start(uint32_t i);
  // Starts one more node, n<size()+1>, with a free link port and every node's settings
  // (bootstrap_members stays opts.size: it joins a cluster whose partitions are assigned);
  // returns its index once it listens (its /readyz may still be 503).
  uint32_t add_node();

  // An HTTP request to node i.
  http_result call(uint32_t i, const std::string& method, const std::string& target,
                   const std::string& body = {},
                   const std::map<std::string, std::string>& headers = {}) const;

  // A dev token for `user` minted by node i (every node accepts it).
  std::string token(uint32_t i, const std::string& user) const;

  bool ready(uint32_t i) const;
  // The value of metric `name` (labels regex-escaped into it) on node i; -1 when absent.
  int64_t metric(uint32_t i, const std::string& name) const;
  // Waits until every started node's /readyz is 200 (fails the test after 20 s).
  void require_ready();

  // The primary of the partition of `key` (an entity id, a user, a link key, ...) now, as the
  // partition map in etcd says; the index of that node.
  std::string owner_of(const std::string& key);
  // The backup of the partition of `key` now, and whether it caught up (replication).
  std::pair<std::string, bool> backup_of(const std::string& key);
  // Partitions whose backup caught up, as the partition map in etcd says.
  uint32_t partitions_backed_up();
  // The partition map in etcd now (fails the test when it cannot be read).
  cluster::partition_map read_partition_map();
  uint32_t index_of(const std::string& node) const;

  // Asks node i's admin console for storage.partitions (every node answers its part) and
  // checks that every node answered a complete census holding no record of a partition whose
  // primary is another node: until replication, data lives only on its partition's primary.
  // The records all nodes hold together, for the caller's own checks.
  uint64_t require_no_foreign_records(uint32_t i = 0);

private:
  void keep_log(uint32_t i);
  std::set<uint32_t> kept_logs;  // nodes whose kept log this run started
};

// The value of a metric line without labels (or with the labels escaped into `name` as a
// regex), -1 if absent.
int64_t metric_of(const http_result& metrics, const std::string& name);

std::map<std::string, std::string> bearer(const std::string& token);

} // namespace parley::test
