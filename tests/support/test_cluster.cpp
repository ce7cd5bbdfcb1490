#include "support/test_cluster.hpp"

#include "cluster/etcd_client.hpp"
#include "cluster/partition_map_store.hpp"
#include "cluster/placement/partitions.hpp"
#include "proto/admin.pb.h"
#include "support/eventually.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

namespace parley::test {

test_cluster::test_cluster(test_cluster_options o)
  : opts(std::move(o)), etcd(etcd_server_options{opts.etcd_host}) {
  if (!opts.network.empty() && opts.network.size() != opts.size)
    FAIL("test_cluster: " << opts.network.size() << " networks for " << opts.size << " nodes");
  for (uint32_t i = 0; i < opts.size; ++i)
    link_ports.push_back(opts.network.empty() ? free_port(host(i)) : network_link_port);
  nodes.resize(opts.size);
  for (uint32_t i = 0; i < opts.size; ++i)
    start(i);
}

test_cluster::~test_cluster() {
  for (auto& n : nodes)
    if (n)
      n->terminate(std::chrono::seconds{10});
  for (uint32_t i = 0; i < nodes.size(); ++i)
    keep_log(i);
}

// Appends node i's log to PARLEY_TEST_LOGS/<name>.log (when set): called before a restart
// starts the node's log over and when the cluster ends, so the kept log spans every run.
void test_cluster::keep_log(uint32_t i) {
  auto* keep = std::getenv("PARLEY_TEST_LOGS");
  if (keep == nullptr || i >= nodes.size() || !nodes[i])
    return;
  std::error_code ec;
  std::filesystem::create_directories(keep, ec);
  auto path = std::string{keep} + "/" + name(i) + ".log";
  if (kept_logs.insert(i).second)
    std::ofstream{path, std::ios::trunc};  // a log left by an earlier test run starts over
  std::ifstream from{nodes[i]->process().log_path()};
  std::ofstream to{path, std::ios::app};
  to << from.rdbuf();
}

uint32_t test_cluster::add_node() {
  // A node in a namespace needs one the lab built before the cluster started.
  if (!opts.network.empty())
    FAIL("test_cluster: add_node() is for nodes on loopback, not in network namespaces");
  auto i = size();
  link_ports.push_back(free_port(host(i)));
  nodes.emplace_back();
  start(i);
  return i;
}

std::string test_cluster::host(uint32_t i) const {
  if (!opts.network.empty())
    return opts.network[i].client_host;
  return opts.spread ? "127.0.0." + std::to_string(i + 1) : "127.0.0.1";
}

void test_cluster::start(uint32_t i) {
  auto link_host = opts.network.empty() ? host(i) : opts.network[i].link_host;
  std::vector<std::string> args{
    "--set", "cluster.enabled=true",
    "--set", "cluster.cluster_id=test",
    "--set", "cluster.node_id=" + name(i),
    "--set", "cluster.listen=" + link_host + ":" + std::to_string(link_ports[i]),
    "--set", "cluster.etcd_endpoints=[\"" + etcd.endpoint() + "\"]",
    "--set", "cluster.partitions=" + std::to_string(opts.partitions),
    "--set", "cluster.bootstrap_members=" + std::to_string(opts.size),
    "--set", "cluster.lease_ttl_ms=" + std::to_string(opts.lease_ttl.count()),
    "--set", "cluster.heartbeat_ms=200",
    "--set", "cluster.connection_timeout_ms=1000",
  };
  args.insert(args.end(), opts.args.begin(), opts.args.end());
  keep_log(i);  // a restart: the log starts over
  nodes[i] = std::make_unique<parleyd_process>(
    dir.path() + "/" + name(i), std::move(args), std::chrono::seconds{20}, host(i),
    opts.network.empty() ? std::vector<std::string>{} : opts.network[i].launcher);
}

http_result test_cluster::call(uint32_t i, const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::map<std::string, std::string>& headers) const {
  return http_call(host(i), port(i), method, target, body, headers);
}

std::string test_cluster::token(uint32_t i, const std::string& user) const {
  auto res = call(i, "POST", "/api/v1/dev/token", R"({"user_id":")" + user + "\"}");
  INFO(res.body);
  REQUIRE(res.status == 200);
  std::smatch m;
  REQUIRE(std::regex_search(res.body, m, std::regex{R"re("token":"([^"]+)")re"}));
  return m[1];
}

bool test_cluster::ready(uint32_t i) const {
  return call(i, "GET", "/readyz").status == 200;
}

void test_cluster::require_ready() {
  for (uint32_t i = 0; i < size(); ++i) {
    INFO(name(i) << " log:\n" << nodes[i]->log_tail());
    REQUIRE(eventually([&] { return ready(i); }, std::chrono::seconds{20}));
  }
}

cluster::partition_map test_cluster::read_partition_map() {
  cluster::etcd_options eopts;
  eopts.endpoints = {etcd.endpoint()};
  cluster::etcd_client client{eopts};
  cluster::partition_map_store store{client, "test"};
  auto map = store.read_all();
  REQUIRE(map);
  return std::move(*map);
}

std::string test_cluster::owner_of(const std::string& key) {
  auto map = read_partition_map();
  auto p = cluster::partition_of(key, opts.partitions);
  for (auto& a : map.partitions)
    if (a.partition == p)
      return a.primary;
  return {};
}

std::pair<std::string, bool> test_cluster::backup_of(const std::string& key) {
  auto map = read_partition_map();
  auto p = cluster::partition_of(key, opts.partitions);
  for (auto& a : map.partitions)
    if (a.partition == p)
      return {a.backup, a.backup_ready};
  return {};
}

uint32_t test_cluster::partitions_backed_up() {
  auto map = read_partition_map();
  uint32_t n = 0;
  for (auto& a : map.partitions)
    n += a.backup_ready ? 1 : 0;
  return n;
}

uint32_t test_cluster::index_of(const std::string& node) const {
  for (uint32_t i = 0; i < size(); ++i)
    if (name(i) == node)
      return i;
  FAIL("no node " << node);
  return 0;
}

uint64_t test_cluster::require_no_foreign_records(uint32_t i) {
  auto admin = call(i, "POST", "/api/v1/dev/token", R"({"user_id":"ops","role":"admin"})");
  std::smatch m;
  REQUIRE(std::regex_search(admin.body, m, std::regex{R"re("token":"([^"]+)")re"}));
  auto res = call(i, "POST", "/admin/v1/storage.partitions", "{}", bearer(m[1]));
  INFO(res.body);
  REQUIRE(res.status == 200);
  pb::AdminReply reply;
  REQUIRE(google::protobuf::util::JsonStringToMessage(res.body, &reply).ok());
  REQUIRE(reply.unanswered_size() == 0);
  REQUIRE(static_cast<uint32_t>(reply.answers_size()) == opts.size);
  uint64_t records = 0;
  for (auto& part : reply.answers()) {
    INFO("node " << part.node());
    REQUIRE(part.has_data());
    auto& fields = part.data().struct_value().fields();
    CHECK(fields.at("complete").bool_value());
    CHECK(fields.at("undecodable").number_value() == 0);
    CHECK(fields.at("foreign").struct_value().fields().at("records").number_value() == 0);
    CHECK(fields.at("foreign_partitions").number_value() == 0);
    records += static_cast<uint64_t>(
      fields.at("total").struct_value().fields().at("records").number_value());
  }
  return records;
}

int64_t test_cluster::metric(uint32_t i, const std::string& name) const {
  return metric_of(call(i, "GET", "/metrics"), name);
}

int64_t metric_of(const http_result& metrics, const std::string& name) {
  std::regex line{"(^|\\n)" + name + " ([0-9.e+-]+)"};
  std::smatch m;
  if (!std::regex_search(metrics.body, m, line))
    return -1;
  return static_cast<int64_t>(std::stod(m[2]));
}

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

} // namespace parley::test
