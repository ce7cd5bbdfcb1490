// A test cluster whose nodes each run in a network namespace of their own (support/
// netns_lab.hpp), with etcd on the lab's bridge in the root namespace: the fixture of the fault
// tests. The lab is built first and removed last, after the nodes and etcd stopped.
#pragma once

#include "support/netns_lab.hpp"
#include "support/test_cluster.hpp"

#include <string>
#include <vector>

namespace parley::test {

inline test_cluster_options in_namespaces(const netns_lab& lab, std::vector<std::string> args) {
  test_cluster_options o;
  o.size = lab.size();
  o.etcd_host = lab.bridge_address();
  for (uint32_t i = 0; i < lab.size(); ++i)
    o.network.push_back({lab.launcher(i), lab.client_address(i), lab.cluster_address(i)});
  o.args = std::move(args);
  return o;
}

struct lab_cluster {
  netns_lab lab;
  test_cluster cluster;

  // `args`: more arguments for every node, as test_cluster_options::args.
  explicit lab_cluster(uint32_t nodes, std::vector<std::string> args = {})
    : lab(nodes), cluster(in_namespaces(lab, std::move(args))) {}
};

} // namespace parley::test
