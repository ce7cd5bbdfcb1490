#include "node/record_partition.hpp"

#include "actors/feed/feed_context.hpp"
#include "actors/tasks/task_ids.hpp"
#include "cluster/placement/partitions.hpp"
#include "common/time_ordered_id.hpp"

namespace parley::node {

std::string placement_id(const storage::record_owner& owner) {
  using kind = storage::record_owner::kind;
  switch (owner.what) {
    case kind::node:
      return {};
    case kind::conversation:
    case kind::user:
    case kind::link:
    case kind::task_shard:
      return owner.id;
    case kind::post:  // a post id hashes to its author's shard (feed_context.hpp)
    case kind::author:
      return std::to_string(id_shard(owner.id, feed::post_shard_count));
    case kind::task:
    case kind::task_key:  // a keyed create goes to the shard of its task_keys key
      return std::to_string(tasks::shard_of(owner.id));
  }
  return {};
}

storage::record_partitioner make_record_partitioner(uint32_t partitions) {
  return [partitions](storage::family fam,
                      std::string_view key) -> result<std::optional<uint32_t>> {
    auto owner = storage::owner_of_record(fam, key);
    if (!owner)
      return std::move(owner).take_error();
    if (owner->what == storage::record_owner::kind::node)
      return std::optional<uint32_t>{};
    return std::optional<uint32_t>{cluster::partition_of(placement_id(*owner), partitions)};
  };
}

} // namespace parley::node
