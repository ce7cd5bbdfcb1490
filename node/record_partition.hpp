// Which partition a stored record travels with: its owner (storage/record_owner.hpp, read from
// the key) turned into the id the registry places that owner by, then partition_of. Shared by
// the storage census and replication, so that what a node counts as "its" data and what it
// ships to a backup are one and the same.
#pragma once

#include "storage/record_owner.hpp"
#include "storage/replication_log.hpp"

#include <cstdint>
#include <string>

namespace parley::node {

// The id the registry places a record's owner by (actors/runtime/placement.hpp's `id`): the
// conversation, the user, the link key, or the decimal number of a task or post shard. Empty for
// node records.
std::string placement_id(const storage::record_owner& owner);

// partition_of(placement_id(owner of the record), partitions); nullopt for node records.
storage::record_partitioner make_record_partitioner(uint32_t partitions);

} // namespace parley::node
