// Where Parley keeps a cluster's state in etcd: every key under /parley/<cluster_id>/, so that
// several clusters can share one etcd (docs/cluster.md, "Coordinator: etcd").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::cluster {

// "/parley/<cluster_id>/members/": one key per live node, under the node's lease.
std::string members_prefix(std::string_view cluster_id);
std::string member_key(std::string_view cluster_id, std::string_view node_id);

// "/parley/<cluster_id>/partitions/": one key per assigned partition, in decimal.
std::string partitions_prefix(std::string_view cluster_id);
std::string partition_key(std::string_view cluster_id, uint32_t partition);

// The partition a key under partitions_prefix names; nullopt for any other key.
std::optional<uint32_t> partition_of_key(std::string_view cluster_id, std::string_view key);

} // namespace parley::cluster
