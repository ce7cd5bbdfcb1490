// How a node reaches etcd: the endpoints, the deadlines of its calls, and the counters they feed
// (exported as metrics by whoever owns them).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::cluster {

// Fed by every etcd client given them, from any thread.
struct etcd_counters {
  // HTTP requests sent to an endpoint; a call that fails over to another endpoint counts each.
  std::atomic<uint64_t> round_trips{0};
  // Of those, the ones that brought no usable answer: transport error, error status, malformed.
  std::atomic<uint64_t> failures{0};
};

struct etcd_options {
  // Client URLs of the etcd members ("http://127.0.0.1:2379"). A call goes to the endpoint that
  // answered last and moves on to the next when one fails. Default: none (every call fails)
  std::vector<std::string> endpoints;
  // Deadline of one call, over every endpoint it tries. Default: 2000 ms
  std::chrono::milliseconds call_timeout{2000};
  // Time to connect to one endpoint before the call tries the next. Default: 500 ms
  std::chrono::milliseconds connect_timeout{500};
  // Counters to feed; nullptr feeds none. Must outlive every client given them.
  etcd_counters* counters = nullptr;
};

// "" when there is at least one endpoint and every one is an http URL, else a line naming the
// problem (for config validation; a client given bad endpoints fails every call with it).
std::string check_etcd_endpoints(const std::vector<std::string>& endpoints);

} // namespace parley::cluster
