#include "cluster/lease_keeper.hpp"

#include <algorithm>
#include <utility>

namespace parley::cluster {

namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
    .count();
}

// etcd counts leases in whole seconds: round up, so the lease lives at least `ttl`.
std::chrono::seconds etcd_ttl(milliseconds ttl) {
  return std::chrono::seconds{std::max<int64_t>(1, (ttl.count() + 999) / 1000)};
}

etcd_options with_renewal_deadline(etcd_options etcd, milliseconds ttl) {
  etcd.call_timeout = std::min(etcd.call_timeout, ttl / 3);
  return etcd;
}

} // namespace

lease_keeper::lease_keeper(etcd_options etcd, milliseconds ttl, attach_fn attach,
                           change_fn on_change, lease_stats& stats)
  : ttl_(ttl),
    attach_(std::move(attach)),
    on_change_(std::move(on_change)),
    stats_(stats),
    client_(with_renewal_deadline(std::move(etcd), ttl)) {}

lease_keeper::~lease_keeper() {
  halt_thread();
}

fault lease_keeper::start() {
  halt_thread();
  client_.set_abort_flag(nullptr);
  auto sent = now_ns();
  auto lease = client_.grant_lease(etcd_ttl(ttl_));
  if (!lease)
    return lease.error();
  if (auto f = attach_(client_, lease->id)) {
    ignore(client_.revoke_lease(lease->id), "an unused lease expires by itself");
    return f;
  }
  lease_ = lease->id;
  last_renewal_ns_ = sent;
  held_ = true;
  stopping_ = false;
  client_.set_abort_flag(&stopping_);
  thread_ = std::thread([this] { run(); });
  return {};
}

fault lease_keeper::stop() {
  halt_thread();
  auto lease = lease_.exchange(0);
  bool was_held = held_.exchange(false);
  if (lease == 0 || !was_held)
    return {};
  client_.set_abort_flag(nullptr);
  return client_.revoke_lease(lease);
}

void lease_keeper::halt_thread() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

bool lease_keeper::healthy() const {
  if (!held_)
    return false;
  auto since = std::chrono::nanoseconds{now_ns() - last_renewal_ns_.load()};
  return since < ttl_ * 2 / 3;
}

int64_t lease_keeper::lease_id() const {
  return held_ ? lease_.load() : 0;
}

// -- the keeper's thread ------------------------------------------------------------------------

void lease_keeper::run() {
  auto interval = ttl_ / 3;
  auto next = steady::now() + interval;
  std::unique_lock<std::mutex> lock{mutex_};
  while (!wake_.wait_until(lock, next, [this] { return stopping_.load(); })) {
    lock.unlock();
    // Paced from when a renewal starts: one that ran into its deadline (ttl/3) is followed at
    // once by the next.
    next = steady::now() + interval;
    if (held_)
      renew();
    else
      regain();
    lock.lock();
  }
}

void lease_keeper::renew() {
  auto sent = now_ns();
  auto left = client_.keep_alive_once(lease_);
  if (!left) {
    // Unreachable or stalled etcd: the lease may still live; healthy() turns false by itself
    // once the last renewal is too old.
    stats_.renewal_failures.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (left->count() > 0) {
    last_renewal_ns_ = sent;
    stats_.renewals.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  held_ = false;
  stats_.leases_lost.fetch_add(1, std::memory_order_relaxed);
  if (on_change_)
    on_change_({lease_change::kind::lost, lease_});
  regain();
}

// A failure here is tried again on the next turn.
void lease_keeper::regain() {
  if (stopping_)
    return;
  auto sent = now_ns();
  auto lease = client_.grant_lease(etcd_ttl(ttl_));
  if (!lease)
    return;
  if (auto f = attach_(client_, lease->id)) {
    ignore(client_.revoke_lease(lease->id), "an unused lease expires by itself");
    return;
  }
  lease_ = lease->id;
  last_renewal_ns_ = sent;
  held_ = true;
  stats_.regrants.fetch_add(1, std::memory_order_relaxed);
  if (on_change_)
    on_change_({lease_change::kind::regained, lease->id});
}

} // namespace parley::cluster
