#include "cluster/membership.hpp"

#include "cluster/coordinator_keys.hpp"
#include "cluster/etcd_client.hpp"
#include "proto/cluster.pb.h"

#include <algorithm>
#include <utility>

namespace parley::cluster {

namespace {

using std::chrono::milliseconds;

// Pauses between watches that failed: doubled up to the maximum, back to the minimum once a
// watch works. 100 ms / 1000 ms
constexpr milliseconds min_retry_pause{100};
constexpr milliseconds max_retry_pause{1000};

etcd_options counted(etcd_options etcd, etcd_counters& counters) {
  etcd.counters = &counters;
  return etcd;
}

std::string encode(const member_record& m) {
  pb::ClusterMember out;
  out.set_node_id(m.node_id);
  out.set_advertise(m.advertise);
  out.set_incarnation(m.incarnation);
  out.set_started_at_ms(m.started_at_ms);
  return out.SerializeAsString();
}

bool decode(const std::string& bytes, member_record& out) {
  pb::ClusterMember in;
  if (!in.ParseFromString(bytes) || in.node_id().empty())
    return false;
  out = {in.node_id(), in.advertise(), in.incarnation(), in.started_at_ms()};
  return true;
}

} // namespace

bool member_record::operator==(const member_record& other) const {
  return node_id == other.node_id && advertise == other.advertise
         && incarnation == other.incarnation && started_at_ms == other.started_at_ms;
}

// -- constructors -------------------------------------------------------------------------------

membership::membership(membership_options opts, members_handler on_members,
                       lease_handler on_lease)
  : opts_(std::move(opts)),
    on_members_(std::move(on_members)),
    prefix_(members_prefix(opts_.cluster_id)),
    key_(member_key(opts_.cluster_id, opts_.self.node_id)),
    record_bytes_(encode(opts_.self)),
    keeper_(counted(opts_.etcd, stats_.etcd), opts_.lease_ttl,
            [this](etcd_client& client, int64_t lease) -> fault {
              auto put = client.put(key_, record_bytes_, lease);
              return put ? fault{} : put.error();
            },
            std::move(on_lease), stats_.lease),
    watch_client_(std::make_unique<etcd_client>(counted(opts_.etcd, stats_.etcd))) {}

membership::~membership() {
  ignore(leave(), "the key lives out its lease when it cannot be revoked");
}

// -- modifiers ----------------------------------------------------------------------------------

fault membership::join() {
  if (joined_)
    return make_fault(errc::conflict, "membership: already joined");
  if (opts_.cluster_id.empty() || opts_.self.node_id.empty())
    return make_fault(errc::bad_request, "membership: cluster_id and node_id are required");
  if (auto f = keeper_.start())
    return f;
  stopping_ = false;
  watch_client_->set_abort_flag(nullptr);
  {
    std::lock_guard<std::mutex> lock{mutex_};
    view_ = {};
  }
  int64_t revision = 0;
  if (auto f = read_members(revision)) {
    ignore(keeper_.stop(), "join fails either way; the key lives out its lease");
    return f;
  }
  watch_client_->set_abort_flag(&stopping_);
  joined_ = true;
  watch_thread_ = std::thread([this, revision] { watch_members(revision); });
  return {};
}

fault membership::leave() {
  if (!joined_.exchange(false))
    return {};
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (watch_thread_.joinable())
    watch_thread_.join();
  return keeper_.stop();
}

// -- observers ----------------------------------------------------------------------------------

bool membership::lease_healthy() const {
  return keeper_.healthy();
}

member_view membership::members() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return view_;
}

// -- the watch thread ---------------------------------------------------------------------------

// `read_at`: the revision of the list join() read; the watch goes on from the next one.
void membership::watch_members(int64_t read_at) {
  report(read_at);
  auto next = read_at + 1;
  bool read_again = false;
  auto retry_pause = min_retry_pause;
  auto failed = [&] {
    stats_.watch_restarts.fetch_add(1, std::memory_order_relaxed);
    pause(retry_pause);
    retry_pause = std::min(retry_pause * 2, max_retry_pause);
  };
  while (!stopping_) {
    if (read_again) {
      int64_t revision = 0;
      if (read_members(revision)) {
        failed();
        continue;
      }
      read_again = false;
      next = revision + 1;
      report(revision);
    }
    auto end = watch_client_->watch_prefix(prefix_, next,
                                           [&](const std::vector<etcd_event>& events,
                                               int64_t revision) {
      for (auto& e : events)
        apply(e.kv.key, e.type == etcd_event::kind::put ? &e.kv.value : nullptr);
      // Kept here too: a watch that breaks later goes on after what was applied.
      next = events.back().kv.mod_revision + 1;
      report(revision);
      return !stopping_.load();
    }, opts_.watch_reopen);
    if (!end) {
      failed();
      continue;
    }
    retry_pause = min_retry_pause;
    using reason = etcd_watch_end::reason;
    if (end->why == reason::compacted || end->why == reason::canceled) {
      // Events were lost to compaction (or etcd gave up the watch): the list is read whole.
      stats_.watch_restarts.fetch_add(1, std::memory_order_relaxed);
      read_again = true;
    }
  }
}

fault membership::read_members(int64_t& revision) {
  auto range = watch_client_->range_prefix(prefix_);
  if (!range)
    return range.error();
  by_key_.clear();
  for (auto& kv : range->kvs)
    apply(kv.key, &kv.value);
  revision = range->revision;
  return {};
}

// `value` null: the key is gone.
void membership::apply(const std::string& key, const std::string* value) {
  member_record m;
  if (value && decode(*value, m)) {
    by_key_[key] = std::move(m);
    return;
  }
  if (value)
    stats_.bad_records.fetch_add(1, std::memory_order_relaxed);
  by_key_.erase(key);
}

// Reports the list if it differs from the last report (the first report always goes out).
void membership::report(int64_t revision) {
  member_view now;
  now.revision = revision;
  for (auto& [key, m] : by_key_)
    now.members.push_back(m);
  std::sort(now.members.begin(), now.members.end(),
            [](auto& a, auto& b) { return a.node_id < b.node_id; });
  {
    std::lock_guard<std::mutex> lock{mutex_};
    bool first = view_.revision == 0;
    if (!first && view_.members == now.members)
      return;
    view_ = now;
  }
  stats_.member_changes.fetch_add(1, std::memory_order_relaxed);
  if (on_members_)
    on_members_(now);
}

// False when the membership is stopping.
bool membership::pause(milliseconds how_long) {
  std::unique_lock<std::mutex> lock{mutex_};
  return !wake_.wait_for(lock, how_long, [this] { return stopping_.load(); });
}

} // namespace parley::cluster
