// A node's membership in its cluster: its member key in etcd under a lease kept alive, and the
// live member list read from etcd and followed with a watch (docs/cluster.md, "Coordinator:
// etcd"). Owns two threads (blocking I/O, so neither CAF's scheduler nor an io thread): one
// renews the lease, one watches the members and reports every change of the list.
#pragma once

#include "cluster/etcd_options.hpp"
#include "cluster/lease_keeper.hpp"
#include "common/result.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley::cluster {

// -- member types -------------------------------------------------------------------------------

// What a node says about itself under its member key (pb::ClusterMember in etcd).
struct member_record {
  std::string node_id;
  std::string advertise;     // "host:port" where peers reach it
  uint64_t incarnation = 0;  // new on every start: a restarted node is a new member
  int64_t started_at_ms = 0; // Unix time

  bool operator==(const member_record& other) const;
  bool operator!=(const member_record& other) const { return !(*this == other); }
};

struct member_view {
  std::vector<member_record> members;  // by node_id
  int64_t revision = 0;                // the etcd revision the list is as of
};

struct membership_options {
  // etcd endpoints and deadlines (counters: the membership feeds its own stats).
  etcd_options etcd;
  // Names the cluster's keys (/parley/<cluster_id>/...). Required.
  std::string cluster_id;
  // This node (node_id required); the caller picks a new incarnation per start.
  member_record self;
  // The member key lives this long without renewal; renewed every ttl/3. Default: 3000 ms
  std::chrono::milliseconds lease_ttl{3000};
  // A quiet watch is reopened after this, from where it stopped, so that an etcd member that
  // stalls without closing the stream is left for another endpoint. Default: 10000 ms
  std::chrono::milliseconds watch_reopen{10000};
};

// Plain atomics for metrics.
struct membership_stats {
  etcd_counters etcd;  // round trips and failures of both threads and of join/leave
  lease_stats lease;
  std::atomic<uint64_t> member_changes{0};   // reports of a changed member list
  std::atomic<uint64_t> watch_restarts{0};   // watches reopened after a failure or a cancel
  std::atomic<uint64_t> bad_records{0};      // member keys whose value is no member record
};

// -- the membership -----------------------------------------------------------------------------

class membership {
public:
  // Called on the membership's watch thread, one call at a time in revision order: first with
  // the list join() read, then after every change. Must not call leave() (it waits for that
  // thread); hand the view over (a message to an actor) rather than work in it.
  using members_handler = std::function<void(const member_view&)>;
  // Called on the membership's lease thread when the lease was lost and when a new lease holds
  // the member key again.
  using lease_handler = std::function<void(const lease_change&)>;

  // -- constructors --

  membership(membership_options opts, members_handler on_members, lease_handler on_lease = {});
  // Leaves if still joined.
  ~membership();
  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  // -- modifiers --

  // Grants a lease of lease_ttl, puts the member key under it, reads the member list, then
  // renews the lease every ttl/3 and watches the members. Blocks for a few etcd round trips.
  fault join();

  // Stops watching and renewing and revokes the lease, so that peers see this node gone at
  // once. Safe to call when not joined. The fault of the revocation (the key then lives out
  // its TTL).
  fault leave();

  // -- observers (any thread) --

  bool joined() const { return joined_; }

  // True only while the lease is held and was renewed less than lease_ttl*2/3 ago: a node that
  // is not healthy must not acknowledge durable writes.
  bool lease_healthy() const;

  // The member list as last reported.
  member_view members() const;

  const membership_stats& stats() const { return stats_; }

private:
  void watch_members(int64_t from_revision);
  fault read_members(int64_t& revision);
  void apply(const std::string& key, const std::string* value);
  void report(int64_t revision);
  bool pause(std::chrono::milliseconds how_long);

  membership_options opts_;
  members_handler on_members_;
  membership_stats stats_;
  std::string prefix_;
  std::string key_;
  std::string record_bytes_;
  lease_keeper keeper_;
  std::unique_ptr<etcd_client> watch_client_;
  std::atomic<bool> joined_{false};
  std::atomic<bool> stopping_{false};
  // The watch thread's state: members by key.
  std::map<std::string, member_record> by_key_;
  mutable std::mutex mutex_;  // guards view_, and the watch thread's pauses
  std::condition_variable wake_;
  member_view view_;
  std::thread watch_thread_;
};

} // namespace parley::cluster
