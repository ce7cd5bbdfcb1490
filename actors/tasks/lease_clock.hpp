// The clocks of a task shard's leases: one per running task, kept in the shard's entry for the
// task, and one queue of checks ordered by time, so a shard needs a single timer for all its
// leases. (A lease used to be an actor of its own: spawning, linking, arming a timer and
// stopping one per cycle cost more than the rest of a lease; docs/benchmarks.md.)
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace parley::tasks {

using lease_check_queue = std::multimap<int64_t, std::string>;  // check time (unix ms) -> task id

// The lease of one running task (or of a cancelled one whose worker has not been told yet).
struct lease_clock {
  bool held = false;  // heartbeats are honoured and the expiry is checked
  int64_t expires_at_ms = 0;
  int64_t deadline_ms = 0;  // started_at + timeout_sec: no heartbeat extends past it
  lease_check_queue::iterator check;  // valid while held
};

class lease_checks {
public:
  // -- modifiers --------------------------------------------------------------------------------

  // Starts (or restarts) the clock of task `task_id`'s lease.
  void start(lease_clock& c, const std::string& task_id, int64_t expires_at_ms,
             int64_t deadline_ms) {
    stop(c);
    c.held = true;
    c.expires_at_ms = expires_at_ms;
    c.deadline_ms = deadline_ms;
    // Checked just after the expiry: at the expiry itself the lease still holds.
    c.check = queue_.emplace(expires_at_ms + 1, task_id);
  }

  // The lease ended (finished, revoked): its clock stops quietly.
  void stop(lease_clock& c) {
    if (c.held)
      queue_.erase(c.check);
    c.held = false;
  }

  // A heartbeat at `now`: extends the lease by lease_ms (0: only reports), never past its
  // deadline; the expiry after it, or nothing when the lease has run out (or is not held).
  static std::optional<int64_t> extend(lease_clock& c, int64_t now, int64_t lease_ms) {
    if (!c.held || now >= c.expires_at_ms)
      return std::nullopt;
    if (lease_ms > 0)
      c.expires_at_ms = std::min(now + lease_ms, c.deadline_ms);
    // The earlier check finds time left and is moved; no second entry needed.
    return c.expires_at_ms;
  }

  // The ids of the tasks whose lease ran out at `now`; their clocks are stopped. `find` maps a
  // task id to its lease_clock (nullptr: gone). Extended leases are checked again later.
  template <class Find>
  std::vector<std::string> take_expired(int64_t now, Find find) {
    std::vector<std::string> out;
    while (!queue_.empty() && queue_.begin()->first <= now) {
      auto node = queue_.extract(queue_.begin());
      lease_clock* c = find(node.mapped());
      if (!c || !c->held)
        continue;
      if (now < c->expires_at_ms) {
        node.key() = c->expires_at_ms + 1;
        c->check = queue_.insert(std::move(node));
        continue;
      }
      c->held = false;
      out.push_back(std::move(node.mapped()));
    }
    return out;
  }

  // -- observers --------------------------------------------------------------------------------

  // When the next check is due (unix ms); LLONG_MAX when no lease is held.
  int64_t next_check() const { return queue_.empty() ? LLONG_MAX : queue_.begin()->first; }

  size_t size() const { return queue_.size(); }

private:
  lease_check_queue queue_;
};

} // namespace parley::tasks
