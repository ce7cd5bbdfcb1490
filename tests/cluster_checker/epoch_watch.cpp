#include "cluster_checker/epoch_watch.hpp"

#include "cluster/etcd_client.hpp"
#include "cluster/partition_map_store.hpp"

namespace parley::test {

epoch_watch::epoch_watch(std::string endpoint, std::string cluster_id,
                         std::chrono::milliseconds interval)
  : endpoint_(std::move(endpoint)), cluster_id_(std::move(cluster_id)), interval_(interval),
    thread_([this] { run(); }) {}

epoch_watch::~epoch_watch() {
  stop();
}

void epoch_watch::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
}

uint64_t epoch_watch::epoch_changes() const {
  uint64_t n = 0;
  for (auto& [p, steps] : history_)
    for (size_t i = 1; i < steps.size(); ++i)
      n += steps[i].epoch != steps[i - 1].epoch ? 1 : 0;
  return n;
}

void epoch_watch::run() {
  cluster::etcd_options opts;
  opts.endpoints = {endpoint_};
  cluster::etcd_client client{opts};
  cluster::partition_map_store store{client, cluster_id_};
  while (!stopping_) {
    ++polls_;
    if (auto map = store.read_all()) {
      auto now = std::chrono::steady_clock::now();
      for (auto& a : map->partitions)
        observe(a.partition, {a.epoch, a.primary, a.backup, a.backup_ready, now});
    } else {
      ++failed_polls_;
    }
    // Polling is the only way to see the map from outside without a watch API in the test
    // support; a failover takes seconds, so changes are not missed between two polls.
    std::this_thread::sleep_for(interval_);
  }
}

void epoch_watch::observe(uint32_t partition, step s) {
  auto& steps = history_[partition];
  if (!steps.empty()) {
    auto& last = steps.back();
    if (last.epoch == s.epoch && last.primary == s.primary && last.backup == s.backup
        && last.backup_ready == s.backup_ready)
      return;
    if (s.epoch < last.epoch)
      violations_.push_back("partition " + std::to_string(partition) + ": epoch went back from "
                            + std::to_string(last.epoch) + " to " + std::to_string(s.epoch));
  }
  auto [it, first] = primary_of_epoch_.emplace(std::make_pair(partition, s.epoch), s.primary);
  if (!first && it->second != s.primary)
    violations_.push_back("partition " + std::to_string(partition) + ": epoch "
                          + std::to_string(s.epoch) + " had primaries " + it->second + " and "
                          + s.primary);
  steps.push_back(std::move(s));
}

} // namespace parley::test
