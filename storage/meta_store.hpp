// Node-level facts kept in the `meta` family: the node's stable identity and the schema version.
#pragma once

#include "common/errc.hpp"
#include "common/result.hpp"
#include "storage/engine.hpp"

#include <string>

namespace parley::storage {

// The on-disk layout this build writes. A data directory with a newer version is refused.
constexpr int schema_version = 1;

class meta_store {
public:
  explicit meta_store(engine& db) : db_(db) {}

  // Returns the node id stored under meta/node_id, creating a random one ("n-" + 12 hex digits)
  // on first start; also records and checks the schema version (a newer or corrupt one is an
  // internal fault). Synchronous: start-up only.
  result<std::string> load_or_create_node_id();

  // Whether every record this store holds came through replication: its data directory held no
  // data when it first started with replication factor 2, and it has not started without since
  // (`replicating` says how this start runs; a start without clears the mark for good). Then
  // each partition's replication log here is complete from lsn 1, and a partition's position 0
  // means none of its records are here (docs/replication.md, Catching up). Start-up only.
  result<bool> note_replication(bool replicating);

private:
  engine& db_;
};

} // namespace parley::storage
