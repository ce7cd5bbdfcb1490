// Once a second: probes the actors' mailboxes (node/mailbox_probe.hpp) for the
// parley_mailbox_wait_seconds{kind} metric, and records one sample of the node's vital signs in
// a history of the last 15 minutes (admin command node.samples).
#pragma once

#include "node/mailbox_probe.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace parley::node {

struct node_sample {
  int64_t at_ms = 0;                // unix ms
  double websockets = 0;
  double frames_per_sec = 0;        // WebSocket frames in and out
  double delivered_per_sec = 0;     // chat message frames pushed to devices
  double commit_p99_ms = 0;         // group commits of the last second; 0 without any
  double largest_mailbox_wait_ms = 0;
  double resident_bytes = 0;
};

// The samples of the last `capacity` seconds, oldest first. Thread-safe.
class sample_history {
public:
  explicit sample_history(size_t capacity) : capacity_(capacity) {}

  void add(const node_sample& s);
  // The newest `n` samples, oldest first.
  std::vector<node_sample> last(size_t n) const;
  // The samples taken after `after_ms` (unix ms), oldest first; the newest `n` when more.
  std::vector<node_sample> after(int64_t after_ms, size_t n) const;

private:
  size_t capacity_;
  mutable std::mutex mtx_;
  std::deque<node_sample> samples_;
};

// Default: 900 samples, one a second (15 minutes).
constexpr size_t sample_history_seconds = 900;

// Starts sampling; the actor stops with an exit message.
caf::actor spawn_node_sampler(caf::actor_system& sys, caf::actor registry, named_actors singletons,
                              std::shared_ptr<sample_history> history);

} // namespace parley::node
