#include "support/test_cluster.hpp"

#include "cluster/etcd_client.hpp"
#include "cluster/partition_map_store.hpp"
#include "cluster/placement/partitions.hpp"
#include "support/eventually.hpp"
#include "support/test_client.hpp"

#include <catch2/catch.hpp>

#include <regex>

namespace parley::test {

test_cluster::test_cluster(test_cluster_options opts) : opts_(std::move(opts)) {
  for (uint32_t i = 0; i < opts_.size; ++i) {
    hosts_.push_back("127.0.0." + std::to_string(i + 1));
    link_ports_.push_back(free_port(hosts_.back()));
  }
  nodes_.resize(opts_.size);
  for (uint32_t i = 0; i < opts_.size; ++i)
    start(i);
}

void test_cluster::start(uint32_t i) {
  nodes_[i].reset();
  std::vector<std::string> args{
    "--set", "cluster.enabled=true",
    "--set", "cluster.cluster_id=test",
    "--set", "cluster.node_id=" + name(i),
    "--set", "cluster.listen=" + hosts_[i] + ":" + std::to_string(link_ports_[i]),
    "--set", "cluster.etcd_endpoints=[\"" + etcd_.endpoint() + "\"]",
    "--set", "cluster.partitions=" + std::to_string(opts_.partitions),
    "--set", "cluster.bootstrap_members=" + std::to_string(opts_.size),
    "--set", "cluster.lease_ttl_ms=" + std::to_string(opts_.lease_ttl.count()),
    "--set", "cluster.heartbeat_ms=200",
    "--set", "cluster.connection_timeout_ms=1000",
  };
  args.insert(args.end(), opts_.args.begin(), opts_.args.end());
  nodes_[i] = std::make_unique<parleyd_process>(dir_.path() + "/" + name(i), std::move(args),
                                                std::chrono::seconds{20}, hosts_[i]);
}

bool test_cluster::ready(uint32_t i) const {
  return http_call(hosts_[i], port(i), "GET", "/readyz").status == 200;
}

void test_cluster::require_ready() {
  for (uint32_t i = 0; i < opts_.size; ++i) {
    INFO(name(i) << " log:\n" << nodes_[i]->log_tail());
    REQUIRE(eventually([&] { return ready(i); }, std::chrono::seconds{20}));
  }
}

std::string partition_owner(const std::string& etcd_endpoint, const std::string& cluster_id,
                            uint32_t partitions, const std::string& key) {
  cluster::etcd_options eopts;
  eopts.endpoints = {etcd_endpoint};
  cluster::etcd_client client{eopts};
  cluster::partition_map_store store{client, cluster_id};
  auto map = store.read_all();
  REQUIRE(map);
  auto p = cluster::partition_of(key, partitions);
  for (auto& a : map->partitions)
    if (a.partition == p)
      return a.primary;
  return {};
}

std::string test_cluster::owner_of(const std::string& key) {
  return partition_owner(etcd_.endpoint(), "test", opts_.partitions, key);
}

int64_t test_cluster::metric(uint32_t i, const std::string& name) const {
  auto body = http_call(hosts_[i], port(i), "GET", "/metrics").body;
  std::regex line{"(^|\\n)" + name + " ([0-9.e+-]+)"};
  std::smatch m;
  if (!std::regex_search(body, m, line))
    return -1;
  return static_cast<int64_t>(std::stod(m[2]));
}

} // namespace parley::test
