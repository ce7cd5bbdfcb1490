// The checker's fault injector (issue 15): one fault at a time, each healed before the next,
// and the next only once every node is ready and every partition has a caught-up backup again
// (the promise is one failure at a time). Kinds, in turn: SIGKILL of a node that is primary of
// some partitions (restarted on its data after a while), SIGSTOP for longer than the lease then
// SIGCONT, a node's cluster link cut, and a one-way blackhole from one node to a peer. Runs on
// the test's thread (it uses test_cluster, which asserts with Catch2); every fault is logged
// with its times.
#pragma once

#include "cluster_checker/node_directory.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace parley::test {

class netns_lab;
struct test_cluster;

enum class fault_kind : uint8_t { kill, stop, cut, blackhole };
std::string to_string(fault_kind kind);

struct fault_record {
  fault_kind kind = fault_kind::kill;
  uint32_t node = 0;
  uint32_t peer = 0;                   // blackhole: the peer whose packets from `node` vanish
  std::chrono::milliseconds at{0};     // since the nemesis started
  std::chrono::milliseconds healed{0};
  std::chrono::milliseconds recovered{0};  // ready and backed up again; 0 if never seen
};

struct nemesis_options {
  // How long a killed node stays down before it restarts. Default: 4000 ms (past the lease)
  std::chrono::milliseconds kill_down{4000};
  // How long a stopped node stays stopped. Default: 4500 ms (a 3 s lease + 1.5 s)
  std::chrono::milliseconds stop_for{4500};
  // How long a cluster link stays cut. Default: 5000 ms
  std::chrono::milliseconds cut_for{5000};
  // How long a one-way blackhole lasts. Default: 5000 ms
  std::chrono::milliseconds blackhole_for{5000};
  // Quiet time after recovery, before the next fault. Default: 1000 ms
  std::chrono::milliseconds pause{1000};
  // The cluster must be ready and backed up again this soon after a heal. Default: 45000 ms
  std::chrono::milliseconds recover_within{45000};
};

class nemesis {
public:
  nemesis(test_cluster& cluster, netns_lab& lab, node_directory& nodes, nemesis_options opts);
  // Heals a fault still in place (the test failed during it).
  ~nemesis();
  nemesis(const nemesis&) = delete;
  nemesis& operator=(const nemesis&) = delete;

  // Injects and heals faults until `until`. False (with problem()) when the cluster did not
  // recover from one within recover_within.
  bool run_until(std::chrono::steady_clock::time_point until);
  // Every node ready and every partition backed up, within `within`.
  bool recovered(std::chrono::milliseconds within);

  const std::vector<fault_record>& faults() const { return faults_; }
  // When it was made: the origin of every fault's times.
  std::chrono::steady_clock::time_point started() const { return start_; }
  std::map<std::string, uint64_t> counts() const;
  const std::string& problem() const { return problem_; }

private:
  std::chrono::milliseconds since_start() const;
  fault_record inject(fault_kind kind, uint32_t node);
  void heal(fault_record& f);
  uint32_t a_primary(uint32_t from);

  test_cluster& cluster_;
  netns_lab& lab_;
  node_directory& nodes_;
  nemesis_options opts_;
  std::chrono::steady_clock::time_point start_;
  std::vector<fault_record> faults_;
  std::optional<fault_record> active_;  // injected, not healed yet
  std::string problem_;
};

} // namespace parley::test
