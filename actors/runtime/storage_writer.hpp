// The group-commit writer as an actor: `request(writer, infinite, write_atom_v, set)` answers
// once the write set is durable (per storage.sync), or with the storage error. Actors never
// block on storage; many actors' writes share one WriteBatch and one fsync.
#pragma once

#include "actors/runtime/local_only_types.hpp"
#include "storage/group_commit_writer.hpp"
#include "storage/write_set.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace parley::runtime {

// Messages:
//   (write_atom, storage::write_set) -> caf::unit_t once durable, or a parley error.
// `writer` must outlive the actor system's use of the returned handle.
caf::actor spawn_storage_writer(caf::actor_system& sys, storage::group_commit_writer& writer);

} // namespace parley::runtime
