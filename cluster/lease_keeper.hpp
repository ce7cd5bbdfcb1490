// Keeps one etcd lease alive from a thread of its own: renews it every ttl/3, tells whether the
// last renewal is recent enough for the node to acknowledge durable writes, and replaces a lease
// that etcd let go (putting back what lived under it). Blocking I/O, so never on an actor's or
// an io_context's thread.
#pragma once

#include "cluster/etcd_client.hpp"
#include "common/result.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace parley::cluster {

// Plain atomics for metrics.
struct lease_stats {
  std::atomic<uint64_t> renewals{0};          // keep-alives that found the lease alive
  std::atomic<uint64_t> renewal_failures{0};  // keep-alives without an answer
  std::atomic<uint64_t> leases_lost{0};       // keep-alives that found the lease gone
  std::atomic<uint64_t> regrants{0};          // new leases that hold the keys again
};

struct lease_change {
  enum class kind : uint8_t {
    lost,      // etcd let the lease go: its keys are gone, the node is not acknowledging
    regained,  // a new lease holds the keys again
  };
  kind what = kind::lost;
  int64_t lease = 0;  // lost: the old lease; regained: the new one
};

class lease_keeper {
public:
  // -- member types --

  // Puts the keys that live under `lease` (called by start() on its caller's thread, and on
  // the keeper's thread for every new lease).
  using attach_fn = std::function<fault(etcd_client& client, int64_t lease)>;
  // Called on the keeper's thread.
  using change_fn = std::function<void(const lease_change&)>;

  // -- constructors --

  // `ttl` is rounded up to whole seconds for etcd; health is judged on `ttl` itself. One call
  // lasts at most ttl/3 (or etcd.call_timeout if shorter), so that a stalled etcd delays no
  // renewal past its turn. `stats` must outlive the keeper.
  lease_keeper(etcd_options etcd, std::chrono::milliseconds ttl, attach_fn attach,
               change_fn on_change, lease_stats& stats);
  // Stops renewing; does not revoke (stop() does).
  ~lease_keeper();
  lease_keeper(const lease_keeper&) = delete;
  lease_keeper& operator=(const lease_keeper&) = delete;

  // -- modifiers --

  // Grants a lease, attaches the keys under it, then renews it from the keeper's thread.
  fault start();

  // Stops renewing and revokes the lease, so that its keys vanish at once rather than at its
  // expiry. The fault of the revocation (the lease then lives out its TTL).
  fault stop();

  // -- observers --

  // From any thread: true only while the lease is held and its last renewal was sent less
  // than ttl*2/3 ago. A renewal extends the lease from when etcd serves it, which is after it
  // was sent, so the lease outlives this answer by at least ttl/3.
  bool healthy() const;

  // The lease that holds the keys now; 0 when none.
  int64_t lease_id() const;

private:
  void run();
  void renew();
  void regain();
  void halt_thread();

  std::chrono::milliseconds ttl_;
  attach_fn attach_;
  change_fn on_change_;
  lease_stats& stats_;
  std::atomic<bool> stopping_{false};
  etcd_client client_;
  std::atomic<int64_t> lease_{0};
  std::atomic<bool> held_{false};
  // steady_clock time (ns since its epoch) when the last renewal that found the lease was sent.
  std::atomic<int64_t> last_renewal_ns_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

} // namespace parley::cluster
