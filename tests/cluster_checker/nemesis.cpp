#include "cluster_checker/nemesis.hpp"

#include "cluster/etcd_client.hpp"
#include "cluster/partition_map_store.hpp"
#include "support/eventually.hpp"
#include "support/netns_lab.hpp"
#include "support/test_cluster.hpp"

#include <signal.h>

#include <exception>
#include <iostream>
#include <thread>

namespace parley::test {

std::string to_string(fault_kind kind) {
  switch (kind) {
    case fault_kind::kill: return "kill";
    case fault_kind::stop: return "stop";
    case fault_kind::cut: return "cut";
    case fault_kind::blackhole: return "blackhole";
  }
  return "?";
}

nemesis::nemesis(test_cluster& cluster, netns_lab& lab, node_directory& nodes,
                 nemesis_options opts)
  : cluster_(cluster), lab_(lab), nodes_(nodes), opts_(opts),
    start_(std::chrono::steady_clock::now()) {}

nemesis::~nemesis() {
  if (!active_)
    return;
  try {
    heal(*active_);
  } catch (const std::exception& e) {
    std::cerr << "nemesis: could not heal " << to_string(active_->kind) << ": " << e.what()
              << "\n";
  }
}

std::chrono::milliseconds nemesis::since_start() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                               - start_);
}

bool nemesis::recovered(std::chrono::milliseconds within) {
  return eventually(
    [&] {
      for (uint32_t i = 0; i < cluster_.size(); ++i)
        if (!cluster_.ready(i))
          return false;
      return cluster_.partitions_backed_up() == cluster_.opts.partitions;
    },
    within);
}

bool nemesis::run_until(std::chrono::steady_clock::time_point until) {
  static const fault_kind order[] = {fault_kind::kill, fault_kind::stop, fault_kind::cut,
                                     fault_kind::blackhole};
  uint32_t turn = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto kind = order[turn % 4];
    // Victims rotate over the nodes, at a different stride from the kinds, so that every node
    // meets every kind in a long run.
    auto node = (turn + turn / 4) % cluster_.size();
    if (kind == fault_kind::kill)
      node = a_primary(node);
    ++turn;
    active_ = inject(kind, node);
    heal(*active_);
    auto f = *active_;
    active_.reset();
    bool ok = recovered(opts_.recover_within);
    if (ok)
      f.recovered = since_start();
    std::cout << "nemesis: " << to_string(f.kind) << " " << test_cluster::name(f.node)
              << (f.kind == fault_kind::blackhole ? "->" + test_cluster::name(f.peer) : "")
              << " at " << f.at.count() << " ms, healed at " << f.healed.count()
              << " ms, recovered at " << (ok ? std::to_string(f.recovered.count()) : "never")
              << " ms" << std::endl;
    faults_.push_back(f);
    if (!ok) {
      problem_ = "the cluster was not ready and backed up " + std::to_string(
                   opts_.recover_within.count()) + " ms after healing " + to_string(f.kind)
                 + " of " + test_cluster::name(f.node);
      return false;
    }
    // Quiet time between faults: load runs on a whole cluster for a moment.
    std::this_thread::sleep_for(opts_.pause);
  }
  return true;
}

uint32_t nemesis::a_primary(uint32_t from) {
  cluster::etcd_options eopts;
  eopts.endpoints = {cluster_.etcd.endpoint()};
  cluster::etcd_client client{eopts};
  cluster::partition_map_store store{client, "test"};
  auto map = store.read_all();
  if (map)
    for (uint32_t k = 0; k < cluster_.size(); ++k) {
      auto node = (from + k) % cluster_.size();
      for (auto& a : map->partitions)
        if (a.primary == test_cluster::name(node))
          return node;
    }
  return from;
}

fault_record nemesis::inject(fault_kind kind, uint32_t node) {
  fault_record f;
  f.kind = kind;
  f.node = node;
  f.peer = (node + 1) % cluster_.size();
  f.at = since_start();
  // The sleeps below are the faults' durations, chosen, not waits for a condition.
  switch (kind) {
    case fault_kind::kill:
      cluster_.node(node).kill();
      active_ = f;
      std::this_thread::sleep_for(opts_.kill_down);
      break;
    case fault_kind::stop:
      cluster_.node(node).process().signal(SIGSTOP);
      active_ = f;
      std::this_thread::sleep_for(opts_.stop_for);
      break;
    case fault_kind::cut:
      lab_.cut(node);
      active_ = f;
      std::this_thread::sleep_for(opts_.cut_for);
      break;
    case fault_kind::blackhole:
      lab_.blackhole(node, lab_.cluster_address(f.peer));
      active_ = f;
      std::this_thread::sleep_for(opts_.blackhole_for);
      break;
  }
  return f;
}

void nemesis::heal(fault_record& f) {
  switch (f.kind) {
    case fault_kind::kill:
      cluster_.start(f.node);  // on its data directory; returns once it listens
      nodes_.set_port(f.node, cluster_.port(f.node));
      break;
    case fault_kind::stop:
      cluster_.node(f.node).process().signal(SIGCONT);
      break;
    case fault_kind::cut:
      lab_.heal(f.node);
      break;
    case fault_kind::blackhole:
      lab_.unblackhole(f.node, lab_.cluster_address(f.peer));
      break;
  }
  f.healed = since_start();
}

std::map<std::string, uint64_t> nemesis::counts() const {
  std::map<std::string, uint64_t> n;
  for (auto& f : faults_)
    ++n[to_string(f.kind)];
  return n;
}

} // namespace parley::test
