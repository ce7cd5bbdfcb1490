#include "node/storage_census.hpp"

#include "cluster/placement/partitions.hpp"
#include "node/record_partition.hpp"

#include <set>

namespace parley::node {

result<storage_census> take_storage_census(const storage::engine& db, const census_options& opts) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + opts.budget;
  storage_census census;
  std::set<uint32_t> foreign_partitions;
  uint64_t seen = 0;
  auto visit = [&](storage::family fam, std::string_view key, std::string_view value) {
    // The clock is read every 1,024 records: cheap next to the reads themselves.
    if ((++seen & 1023) == 0 && clock::now() > deadline) {
      census.complete = false;
      return false;
    }
    uint64_t bytes = key.size() + value.size();
    census.total.records += 1;
    census.total.bytes += bytes;
    auto owner = storage::owner_of_record(fam, key);
    if (!owner) {
      ++census.undecodable;
      return true;
    }
    auto& by_kind = census.by_owner[storage::to_string(owner->what)];
    by_kind.records += 1;
    by_kind.bytes += bytes;
    if (!opts.placement || opts.partitions == 0 || owner->what == storage::record_owner::kind::node)
      return true;
    auto id = placement_id(*owner);
    auto partition = cluster::partition_of(id, opts.partitions);
    auto& part = census.by_partition[partition];
    part.records += 1;
    part.bytes += bytes;
    if (opts.placement->locate({}, id).at != runtime::entity_location::where::local) {
      census.foreign.records += 1;
      census.foreign.bytes += bytes;
      foreign_partitions.insert(partition);
    }
    return true;
  };
  auto specs = storage::family_specs();
  for (size_t i = 0; i < storage::family_count && census.complete; ++i) {
    auto fam = specs[i].id;
    auto err = db.scan(fam, {}, {}, [&](std::string_view key, std::string_view value) {
      return visit(fam, key, value);
    });
    if (err)
      return err;
  }
  census.foreign_partitions = static_cast<uint32_t>(foreign_partitions.size());
  return census;
}

} // namespace parley::node
