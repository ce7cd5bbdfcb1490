// A cluster for tests: one real etcd and N parleyd processes n1..nN, node i on its own loopback
// address 127.0.0.i (HTTP, WebSocket and peer link there, on free ports), each with its own data
// directory. Everything stops with the object, also when a test fails.
#pragma once

#include "support/etcd_server.hpp"
#include "support/parleyd_process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace parley::test {

struct test_cluster_options {
  uint32_t size = 3;
  // cluster.partitions. Default: 32
  uint32_t partitions = 32;
  // cluster.lease_ttl_ms. Default: 3000 ms
  std::chrono::milliseconds lease_ttl{3000};
  // Further parleyd arguments for every node ({"--set", "key=value", ...}).
  std::vector<std::string> args;
};

// The primary of the partition `key` (an entity id) falls in, as the partition map of cluster
// `cluster_id` in the etcd at `etcd_endpoint` says now; empty when unassigned.
std::string partition_owner(const std::string& etcd_endpoint, const std::string& cluster_id,
                            uint32_t partitions, const std::string& key);

class test_cluster {
public:
  explicit test_cluster(test_cluster_options opts = {});

  static std::string name(uint32_t i) { return "n" + std::to_string(i + 1); }

  // Starts node i (again, on its data directory after a kill).
  void start(uint32_t i);

  const std::string& host(uint32_t i) const { return hosts_[i]; }
  uint16_t port(uint32_t i) const { return nodes_[i]->port(); }
  parleyd_process& node(uint32_t i) { return *nodes_[i]; }
  uint32_t size() const { return opts_.size; }
  const test_cluster_options& options() const { return opts_; }
  etcd_server& etcd() { return etcd_; }

  bool ready(uint32_t i) const;
  // Every node answers /readyz 200 within 20 s (fails the test with the node's log if not).
  void require_ready();

  // The primary of the partition `key` (an entity id) falls in, as the map in etcd says now.
  std::string owner_of(const std::string& key);

  // The value of metric `name` (with its labels, regex-escaped) on node i; -1 when absent.
  int64_t metric(uint32_t i, const std::string& name) const;

private:
  test_cluster_options opts_;
  etcd_server etcd_;
  temp_dir dir_;
  std::vector<std::string> hosts_;
  std::vector<uint16_t> link_ports_;
  std::vector<std::unique_ptr<parleyd_process>> nodes_;
};

} // namespace parley::test
