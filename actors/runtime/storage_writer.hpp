// The group-commit writer as an actor: `request(writer, infinite, write_atom_v, set)` answers
// once the write set is durable (per storage.sync), or with the storage error. Actors never
// block on storage; many actors' writes share one WriteBatch and one fsync. Node-local: a
// write set is this node's RocksDB batch (actors/runtime/local_only_types.hpp).
#pragma once

#include "actors/runtime/local_only_types.hpp"
#include "storage/group_commit_writer.hpp"
#include "storage/write_set.hpp"

#include "actors/runtime/atoms.hpp"
#include "common/errc.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <functional>

namespace parley::runtime {

// (write_atom, write_set) -> nothing once durable, or a parley error.
using storage_writer_api = caf::typed_actor<caf::reacts_to<write_atom, storage::write_set>>;

// Whether this node may acknowledge a durable write now; a fault (unavailable) when not. In a
// cluster: not while the node's membership lease is in doubt (../shared/CLUSTER.md, a node cut
// off from the majority stops acknowledging before its lease expires). Called on the writer
// actor's thread; must be quick and thread-safe.
using write_fence = std::function<fault()>;

// `writer` must outlive the actor system's use of the returned handle. With a fence, a write
// that became durable while the fence is closed is answered with the fence's fault instead of
// success: it is on disk but not acknowledged, and its client's retry (same client_msg_id or
// idempotency key) finds it.
storage_writer_api spawn_storage_writer(caf::actor_system& sys,
                                        storage::group_commit_writer& writer,
                                        write_fence fence = {});

} // namespace parley::runtime
