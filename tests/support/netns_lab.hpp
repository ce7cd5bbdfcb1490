// A small network for fault tests (../shared/CLUSTER.md, "How it is tested"): one network
// namespace per node, built by the constructor and removed by the destructor, also when the
// test fails. Needs root (CAP_NET_ADMIN) and `ip netns`; the constructor throws with a clear
// message when either is missing, so a test that needs the lab fails instead of passing.
//
//   root namespace                          namespace <p>n<i> (node i)
//   bridge <p>b  10.211.<k>.1/24 (etcd) --- <p>c<i> ==veth== eth0  10.211.<k>.(10+i)/24  peer link
//   <p>k<i> 10.212.<k>.(4i+1)/30 ==========veth========== cl0   10.212.<k>.(4i+2)/30  HTTP
//
// The cluster link (through the bridge) carries etcd and peer traffic and is what cut() takes
// down; the client link is a point-to-point link the test in the root namespace uses to reach
// the node's HTTP and WebSocket listener, and is never cut. No namespace has a default route, so
// a node cut off cannot reach etcd or peers through its client link. <p> is "pf<pid>", short for
// Linux's 15-character interface names; <k> is a subnet index free on this machine, so several
// test processes can run at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace parley::test {

class netns_lab {
public:
  // -- constructors --

  // Builds the bridge and `nodes` namespaces (first removing what dead earlier runs left).
  explicit netns_lab(uint32_t nodes);
  // Removes the namespaces (their veths go with them) and the bridge.
  ~netns_lab();
  netns_lab(const netns_lab&) = delete;
  netns_lab& operator=(const netns_lab&) = delete;

  // -- observers --

  uint32_t size() const { return nodes_; }
  // The bridge's address in the root namespace (etcd listens there).
  std::string bridge_address() const;
  // Node i's address on the cluster link (its peer link listens there).
  std::string cluster_address(uint32_t i) const;
  // Node i's address on its client link (its HTTP listener, reachable from the root namespace).
  std::string client_address(uint32_t i) const;
  // The command prefix that runs a program inside node i's namespace (ip netns exec execs the
  // program, so the child's pid is the program's).
  std::vector<std::string> launcher(uint32_t i) const;

  // -- modifiers --

  // Takes node i's cluster link down on the bridge side: both directions go silent (packets
  // vanish, connects end in "no route to host" once ARP gives up), the client link stays up.
  void cut(uint32_t i);
  // Brings it back up.
  void heal(uint32_t i);
  // One way: node i's packets to `address` (a peer's cluster_address, or the bridge's) vanish
  // (`ip route add blackhole <address>/32` inside its namespace), while packets to node i still
  // arrive. TCP between the two stalls; what each side notices first differs.
  void blackhole(uint32_t i, const std::string& address);
  // Removes that route again.
  void unblackhole(uint32_t i, const std::string& address);

private:
  std::string ns(uint32_t i) const;
  std::string bridge_port(uint32_t i) const;
  std::string client_port(uint32_t i) const;
  void build();
  void tear_down() noexcept;

  std::string prefix_;
  uint32_t nodes_ = 0;
  uint32_t subnet_ = 0;  // <k>
};

} // namespace parley::test
