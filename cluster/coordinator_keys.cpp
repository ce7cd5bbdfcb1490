#include "cluster/coordinator_keys.hpp"

#include <charconv>

namespace parley::cluster {

namespace {

std::string cluster_prefix(std::string_view cluster_id) {
  return "/parley/" + std::string{cluster_id} + "/";
}

} // namespace

std::string members_prefix(std::string_view cluster_id) {
  return cluster_prefix(cluster_id) + "members/";
}

std::string member_key(std::string_view cluster_id, std::string_view node_id) {
  return members_prefix(cluster_id) + std::string{node_id};
}

std::string partitions_prefix(std::string_view cluster_id) {
  return cluster_prefix(cluster_id) + "partitions/";
}

std::string partition_key(std::string_view cluster_id, uint32_t partition) {
  return partitions_prefix(cluster_id) + std::to_string(partition);
}

std::optional<uint32_t> partition_of_key(std::string_view cluster_id, std::string_view key) {
  auto prefix = partitions_prefix(cluster_id);
  if (key.substr(0, prefix.size()) != prefix || key.size() == prefix.size())
    return std::nullopt;
  auto digits = key.substr(prefix.size());
  uint32_t partition = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), partition);
  if (ec != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;
  return partition;
}

} // namespace parley::cluster
