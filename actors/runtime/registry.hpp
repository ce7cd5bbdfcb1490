// The virtual-actor registry: callers address entities by (kind, id) and never spawn them. The
// registry activates an entity when it is first asked for (the entity loads its state lazily),
// hands out its handle, and passivates it after `idle_passivate` without being asked for, so
// memory tracks the active set rather than the total. Callers then talk to the entity directly,
// typed by its service's interface (docs/actors.md).
//
// Messages:
//   (resolve_atom, std::string kind, std::string id) -> (caf::actor handle, caf::timespan valid)
//       the entity's handle, activating it if needed; callers send to it directly (typed, through
//       the service's *_api.hpp) and ask again once `valid` has passed. Asking counts as use:
//       an entity whose callers keep asking is never idle. A request that bounces because the
//       entity was passivated meanwhile (sec::request_receiver_down) is re-sent after asking
//       again (actors/runtime/entity_request.hpp does both), so no message is lost.
//   (sweep_atom, int64_t now_ns) -> uint64_t: passivates entities idle since before
//       now - idle_passivate and answers how many; the registry also sweeps itself periodically.
//       Times are on the actor system's clock (steady_clock, or a test coordinator's).
//   (count_atom) -> uint64_t: active entities of all kinds (not counting forwarders).
//   (locate_atom, std::string kind, std::string id) -> (std::string owner, bool active): the
//       node that owns the entity and whether it is active here; never activates it (admin
//       console, `entities where`).
//   (peek_atom, std::string kind, std::string id) -> (std::string owner, caf::actor handle): the
//       owner as locate_atom answers it and the handle of the entity's activation on this node,
//       or an invalid handle when it has none (not active, leaving, or a forwarder to its
//       owner); never activates it and does not count as use (admin console, `entities
//       inspect`, which then asks the entity itself).
//   (rebalance_atom) -> uint64_t: placement changed (a member joined or left): passivates every
//       activation and forwarder whose entity now lives elsewhere, and answers how many. Their
//       callers' requests bounce and are re-resolved to the new owner.
//   (sample_atom, uint64_t per_kind) -> (std::vector<std::string> kinds,
//       std::vector<std::string> ids, std::vector<caf::actor> handles): up to `per_kind` active
//       entities of each kind, in three parallel lists (the admin console probes their mailboxes).
//   (trim_atom): hands free heap memory back to the OS (sent to itself after a wave).
//
// In a cluster the placement policy may say another node owns the entity: the registry then
// hands out a forwarder instead (remote_factory, from cluster/), an actor of the same interface
// that carries each request to the owner and its answer back. Forwarders are kept and
// passivated like activations; callers cannot tell them apart. No live owner: `unavailable`.
//
// The entity contract: an entity receives `passivate_atom` when it should go; it quits once its
// outstanding work (e.g. a pending durable write) is done, answering what reaches it meanwhile.
// Until it is gone, resolves for it wait in the registry, so two activations of one entity
// never overlap.
//
// Memory: after a wave of passivations (trim_after_passivations) the registry shrinks its maps
// and a short-lived detached actor calls malloc_trim, so RSS follows the active set down again.
#pragma once

#include "actors/runtime/placement.hpp"

#include <caf/fwd.hpp>
#include <caf/actor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace parley::runtime {

// Spawns the entity `id` of one kind. Called on the registry's thread; must not block.
using entity_factory = std::function<caf::actor(caf::actor_system& sys, const std::string& id)>;
// Spawns a forwarder to the entity `id` of one kind that `node` owns. Must not block.
using remote_factory = std::function<caf::actor(caf::actor_system& sys, const std::string& node,
                                                const std::string& id)>;

struct registry_options {
  // Passivate entities after this long without a message, in seconds. Default: 300
  std::chrono::seconds idle_passivate{300};
  // Sweep for idle entities on a timer; tests turn it off and send sweep_atom themselves.
  bool periodic_sweep = true;
  // After this many passivations, once none is in progress, free heap memory is handed back to
  // the OS (glibc keeps what a burst freed) and the registry's own tables shrink; 0: never.
  // Default: 1024
  size_t trim_after_passivations = 1024;
  // A trim is repeated this long after a wave: memory the wave's requests still pinned (their
  // 30 s timeouts, scattered among freed actors) is free by then. Default: 45 s
  std::chrono::seconds trim_followup{45};
  // This node's id (answers of locate_atom for local entities).
  std::string local_node = "local";
  // Where each entity lives; null: everything here (a single node).
  std::shared_ptr<const placement_policy> placement;
  // Forwarders by kind, for entities another node owns; a kind without one is `unavailable`
  // when remote.
  std::map<std::string, remote_factory> remote_kinds;
};

caf::actor spawn_registry(caf::actor_system& sys, registry_options opts,
                          std::map<std::string, entity_factory> kinds);

} // namespace parley::runtime
