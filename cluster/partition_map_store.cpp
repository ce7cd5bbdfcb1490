#include "cluster/partition_map_store.hpp"

#include "cluster/coordinator_keys.hpp"
#include "cluster/etcd_client.hpp"
#include "proto/cluster.pb.h"

#include <algorithm>
#include <utility>

namespace parley::cluster {

namespace {

std::string encode(const partition_assignment& a) {
  pb::PartitionAssignment out;
  out.set_partition(a.partition);
  out.set_epoch(a.epoch);
  out.set_primary(a.primary);
  out.set_backup(a.backup);
  out.set_backup_ready(a.backup_ready);
  return out.SerializeAsString();
}

// The record under `kv`, which must be the key of its partition.
result<partition_assignment> decode(const etcd_kv& kv, std::string_view cluster_id) {
  pb::PartitionAssignment in;
  auto named = partition_of_key(cluster_id, kv.key);
  if (!named || !in.ParseFromString(kv.value) || in.partition() != *named || in.epoch() == 0)
    return make_fault(errc::internal, "partition map: " + kv.key + " holds no assignment");
  partition_assignment out;
  out.partition = in.partition();
  out.epoch = in.epoch();
  out.primary = in.primary();
  out.backup = in.backup();
  out.backup_ready = in.backup_ready();
  out.mod_revision = kv.mod_revision;
  return out;
}

} // namespace

partition_map_store::partition_map_store(etcd_client& client, std::string cluster_id)
  : client_(client), cluster_id_(std::move(cluster_id)) {}

result<partition_map> partition_map_store::read_all() {
  auto range = client_.range_prefix(partitions_prefix(cluster_id_));
  if (!range)
    return range.error();
  partition_map out;
  out.revision = range->revision;
  for (auto& kv : range->kvs) {
    auto a = decode(kv, cluster_id_);
    if (!a)
      return a.error();
    out.partitions.push_back(std::move(*a));
  }
  // Keys sort as text ("10" before "9").
  std::sort(out.partitions.begin(), out.partitions.end(),
            [](auto& a, auto& b) { return a.partition < b.partition; });
  return out;
}

result<partition_write> partition_map_store::assign(const partition_assignment& previous,
                                                    std::string primary, std::string backup,
                                                    bool backup_ready) {
  partition_assignment next;
  next.partition = previous.partition;
  next.epoch = previous.mod_revision == 0 ? 1 : previous.epoch + 1;
  next.primary = std::move(primary);
  next.backup = std::move(backup);
  next.backup_ready = backup_ready && !next.backup.empty();
  auto key = partition_key(cluster_id_, next.partition);
  auto value = encode(next);
  auto cas = previous.mod_revision == 0
               ? client_.create_if_absent(key, value)
               : client_.update_if_revision(key, value, previous.mod_revision);
  if (!cas)
    return cas.error();
  partition_write out;
  out.won = cas->succeeded;
  if (out.won) {
    next.mod_revision = cas->revision;
    out.current = std::move(next);
    return out;
  }
  out.current.partition = next.partition;
  if (cas->current) {
    auto now = decode(*cas->current, cluster_id_);
    if (!now)
      return now.error();
    out.current = std::move(*now);
  }
  return out;
}

} // namespace parley::cluster
