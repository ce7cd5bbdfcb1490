// The group-commit writer as an actor: `request(writer, infinite, write_atom_v, set)` answers
// once the write set is durable (per storage.sync), or with the storage error. Actors never
// block on storage; many actors' writes share one WriteBatch and one fsync. Node-local: a
// write set is this node's RocksDB batch (actors/runtime/local_only_types.hpp).
#pragma once

#include "actors/runtime/local_only_types.hpp"
#include "storage/group_commit_writer.hpp"
#include "storage/write_set.hpp"

#include "actors/runtime/atoms.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace parley::runtime {

// (write_atom, write_set) -> nothing once durable, or a parley error.
using storage_writer_api = caf::typed_actor<caf::reacts_to<write_atom, storage::write_set>>;

// `writer` must outlive the actor system's use of the returned handle.
storage_writer_api spawn_storage_writer(caf::actor_system& sys,
                                        storage::group_commit_writer& writer);

} // namespace parley::runtime
