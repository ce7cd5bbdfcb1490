#include "actors/runtime/registry.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/placement.hpp"
#include "common/memory.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>

#include <unordered_map>

namespace parley::runtime {

namespace {

struct entry {
  std::string kind;
  std::string id;
  caf::actor handle;
  // The owner this activation stands for: empty for a local activation, else the node its
  // forwarder carries requests to.
  std::string remote_node;
  int64_t last_used_ns = 0;
  bool passivating = false;
  // Resolves that arrived while the previous activation was leaving: the next one answers them.
  std::vector<caf::typed_response_promise<caf::actor, caf::timespan>> parked_resolves;
};

struct kind_metrics {
  metrics::gauge* active;
  metrics::counter* activations;
  metrics::counter* passivations;
};

struct registry_state {
  registry_options opts;
  std::map<std::string, entity_factory> kinds;
  std::map<std::string, kind_metrics> instruments;
  std::unordered_map<std::string, entry> entries;  // by kind + '\0' + id
  std::unordered_map<caf::actor_addr, std::string> by_address;
  size_t passivating = 0;               // asked to go, not gone yet (local activations)
  size_t forwarders = 0;                // entries standing for a remote owner
  size_t passivated_since_trim = 0;
  bool followup_trim_pending = false;
  int64_t last_trim_ns = 0;

  static inline const char* name = "parley.registry";
};

using registry_actor = caf::stateful_actor<registry_state>;

// Idle time is measured on the actor system's clock, the one delayed_send uses: steady time on
// a node, the test coordinator's manual time in deterministic tests.
int64_t now_ns(registry_actor* self) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           self->clock().now().time_since_epoch())
    .count();
}

std::string entry_key(const std::string& kind, const std::string& id) {
  std::string key;
  key.reserve(kind.size() + id.size() + 1);
  key.append(kind).push_back('\0');
  key.append(id);
  return key;
}

entity_location locate(const registry_state& st, const std::string& kind, const std::string& id) {
  return st.opts.placement ? st.opts.placement->locate(kind, id) : entity_location{};
}

// Spawns what stands for the entity here: the entity itself when this node owns it, else a
// forwarder to its owner. An error when it has no live owner (or no forwarder for its kind).
caf::error activate(registry_actor* self, entry& e) {
  auto& st = self->state;
  auto where = locate(st, e.kind, e.id);
  switch (where.at) {
    case entity_location::where::local:
      e.handle = st.kinds.at(e.kind)(self->system(), e.id);
      e.remote_node.clear();
      break;
    case entity_location::where::remote: {
      auto forwarder = st.opts.remote_kinds.find(e.kind);
      if (forwarder == st.opts.remote_kinds.end())
        return make_error(errc::unavailable, e.kind + " " + e.id + " is owned by node "
                                               + where.node + ", which this node cannot reach");
      e.handle = forwarder->second(self->system(), where.node, e.id);
      e.remote_node = where.node;
      break;
    }
    case entity_location::where::unavailable:
      return make_error(errc::unavailable, e.kind + " " + e.id + " has no live owner"
                                             + (where.node.empty() ? "" : " (was " + where.node + ")")
                                             + "; retry shortly");
  }
  e.passivating = false;
  self->monitor(e.handle);
  st.by_address.emplace(e.handle.address(), entry_key(e.kind, e.id));
  if (e.remote_node.empty()) {
    auto& m = st.instruments.at(e.kind);
    m.active->add(1);
    m.activations->inc();
  } else {
    ++st.forwarders;
  }
  return {};
}

// Whether the entry stands for the owner placement names now.
bool placed_right(const registry_state& st, const entry& e) {
  auto where = locate(st, e.kind, e.id);
  switch (where.at) {
    case entity_location::where::local:
      return e.remote_node.empty();
    case entity_location::where::remote:
      return e.remote_node == where.node;
    case entity_location::where::unavailable:
      return false;
  }
  return false;
}

// How long a caller may keep using a resolved handle before asking again. Resolving counts as
// use, so callers that keep asking within this window keep their entity from being passivated.
caf::timespan handle_validity(const registry_options& opts) {
  return std::chrono::duration_cast<caf::timespan>(opts.idle_passivate) / 4;
}

// The entry of (kind, id), activated if it has no activation; null when the kind is unknown or
// the entity has no reachable owner.
entry* find_or_activate(registry_actor* self, const std::string& kind, const std::string& id,
                        caf::error& err) {
  auto& st = self->state;
  if (st.kinds.count(kind) == 0) {
    err = make_error(errc::internal, "unknown entity kind " + kind);
    return nullptr;
  }
  auto key = entry_key(kind, id);
  auto it = st.entries.find(key);
  if (it == st.entries.end()) {
    entry fresh;
    fresh.kind = kind;
    fresh.id = id;
    if (err = activate(self, fresh); err)
      return nullptr;
    it = st.entries.emplace(key, std::move(fresh)).first;
  }
  return &it->second;
}

// Asks every activation and forwarder that placement no longer puts here to go.
uint64_t rebalance(registry_actor* self) {
  auto& st = self->state;
  uint64_t count = 0;
  for (auto& [key, e] : st.entries) {
    if (e.passivating || placed_right(st, e))
      continue;
    e.passivating = true;
    if (e.remote_node.empty())
      ++st.passivating;
    self->send(e.handle, passivate_atom_v);
    ++count;
  }
  return count;
}

uint64_t sweep(registry_actor* self, int64_t now) {
  auto& st = self->state;
  auto idle_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(st.opts.idle_passivate).count();
  uint64_t count = 0;
  for (auto& [key, e] : st.entries) {
    if (e.passivating || now - e.last_used_ns < idle_ns)
      continue;
    e.passivating = true;
    if (e.remote_node.empty())
      ++st.passivating;
    // The entity answers what already reached it, then goes; resolves wait for its successor.
    self->send(e.handle, passivate_atom_v);
    ++count;
  }
  return count;
}

// After a wave of passivations: shrink the maps (their bucket arrays stay at the peak size
// otherwise) and hand free heap pages back to the OS, off the registry's thread.
// `tail`: also the last few of a wave (a periodic sweep found nothing more to passivate).
void maybe_trim(registry_actor* self, bool tail = false) {
  auto& st = self->state;
  if (st.opts.trim_after_passivations == 0 || st.passivating > 0
      || st.passivated_since_trim == 0
      || (!tail && st.passivated_since_trim < st.opts.trim_after_passivations))
    return;
  st.passivated_since_trim = 0;
  st.entries.rehash(0);
  st.by_address.rehash(0);
  static auto& trims = metrics::global().get_counter(
    "memory_trims_total", "Times free heap memory was handed back to the OS after passivations");
  trims.inc();
  self->spawn([](caf::blocking_actor*) { release_free_memory(); });
  st.last_trim_ns = now_ns(self);
  if (!st.followup_trim_pending) {
    st.followup_trim_pending = true;
    self->delayed_send(self, st.opts.trim_followup, trim_atom_v);
  }
}

void on_down(registry_actor* self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto addr = st.by_address.find(dm.source);
  if (addr == st.by_address.end())
    return;
  auto key = addr->second;
  st.by_address.erase(addr);
  auto it = st.entries.find(key);
  if (it == st.entries.end())
    return;
  auto& e = it->second;
  if (!e.remote_node.empty()) {
    --st.forwarders;
  } else {
    auto& m = st.instruments.at(e.kind);
    m.active->sub(1);
    if (e.passivating) {
      m.passivations->inc();
      --st.passivating;
      ++st.passivated_since_trim;
    }
  }
  if (e.parked_resolves.empty()) {
    st.entries.erase(it);
    maybe_trim(self);
    return;
  }
  // Asked for while the old activation was leaving: a fresh one answers, in arrival order
  // (placed anew: the entity may have moved to another node meanwhile).
  auto resolves = std::move(e.parked_resolves);
  e.parked_resolves.clear();
  if (auto err = activate(self, e)) {
    for (auto& rp : resolves)
      rp.deliver(err);
    st.entries.erase(it);
    return;
  }
  for (auto& rp : resolves)
    rp.deliver(e.handle, handle_validity(st.opts));
}

// The entity's owner, and in `handle` its activation here (none when it is not active, is
// leaving or is a forwarder). Activates nothing and does not count as use.
caf::expected<std::string> peek(const registry_state& st, const std::string& kind,
                                const std::string& id, caf::actor& handle) {
  if (st.kinds.count(kind) == 0)
    return make_error(errc::bad_request, "unknown entity kind " + kind);
  auto it = st.entries.find(entry_key(kind, id));
  if (it != st.entries.end() && !it->second.passivating && it->second.remote_node.empty())
    handle = it->second.handle;
  auto where = locate(st, kind, id);
  switch (where.at) {
    case entity_location::where::local:
      return st.opts.local_node;
    case entity_location::where::remote:
      return where.node;
    case entity_location::where::unavailable:
      break;
  }
  return make_error(errc::unavailable, kind + " " + id + " has no live owner");
}

caf::behavior registry_behavior(registry_actor* self, registry_options opts,
                                std::map<std::string, entity_factory> kinds) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.kinds = std::move(kinds);
  for (auto& [kind, factory] : st.kinds) {
    auto labels = "kind=\"" + kind + "\"";
    auto& reg = metrics::global();
    st.instruments[kind] = kind_metrics{
      &reg.get_gauge("actors_active", "Active virtual actors", labels),
      &reg.get_counter("actor_activations_total", "Virtual actor activations", labels),
      &reg.get_counter("actor_passivations_total", "Virtual actors passivated when idle", labels)};
  }
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  // Entities are monitored, not linked (one failing must not take the registry down), so the
  // registry passes its own shutdown on explicitly.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [key, e] : self->state.entries)
      self->send_exit(e.handle, msg.reason);
    self->quit(msg.reason);
  });
  auto sweep_interval = std::max<std::chrono::milliseconds>(
    std::chrono::milliseconds{100}, st.opts.idle_passivate / 4);
  if (st.opts.periodic_sweep)
    self->delayed_send(self, sweep_interval, sweep_atom_v);
  return {
    [self](resolve_atom, const std::string& kind,
           const std::string& id) -> caf::result<caf::actor, caf::timespan> {
      caf::error err;
      auto* e = find_or_activate(self, kind, id, err);
      if (e == nullptr)
        return err;
      e->last_used_ns = now_ns(self);
      if (!e->passivating)
        return {e->handle, handle_validity(self->state.opts)};
      // The leaving activation must not get new work: the caller waits for the next one.
      auto rp = self->make_response_promise<caf::actor, caf::timespan>();
      e->parked_resolves.push_back(rp);
      return rp;
    },
    [self](sweep_atom, int64_t now) { return sweep(self, now); },
    [self, sweep_interval](sweep_atom) {
      if (sweep(self, now_ns(self)) == 0)
        maybe_trim(self, true);
      self->delayed_send(self, sweep_interval, sweep_atom_v);
    },
    [self](trim_atom) {
      // Counted from the wave's last trim: a long wave pushes its follow-up back.
      auto& st = self->state;
      auto due = st.last_trim_ns
                 + std::chrono::duration_cast<std::chrono::nanoseconds>(st.opts.trim_followup).count();
      auto now = now_ns(self);
      if (now < due) {
        self->delayed_send(self, std::chrono::nanoseconds{due - now}, trim_atom_v);
        return;
      }
      st.followup_trim_pending = false;
      self->spawn([](caf::blocking_actor*) { release_free_memory(); });
    },
    [self](count_atom) {
      auto& st = self->state;
      return static_cast<uint64_t>(st.entries.size() - st.forwarders);
    },
    [self](locate_atom, const std::string& kind,
           const std::string& id) -> caf::result<std::string, bool> {
      caf::actor handle;
      auto owner = peek(self->state, kind, id, handle);
      if (!owner)
        return std::move(owner.error());
      return {std::move(*owner), static_cast<bool>(handle)};
    },
    [self](peek_atom, const std::string& kind,
           const std::string& id) -> caf::result<std::string, caf::actor> {
      caf::actor handle;
      auto owner = peek(self->state, kind, id, handle);
      if (!owner)
        return std::move(owner.error());
      return {std::move(*owner), std::move(handle)};
    },
    [self](rebalance_atom) { return rebalance(self); },
    [self](sample_atom, uint64_t per_kind)
      -> caf::result<std::vector<std::string>, std::vector<std::string>, std::vector<caf::actor>> {
      std::vector<std::string> kinds;
      std::vector<std::string> ids;
      std::vector<caf::actor> handles;
      std::map<std::string, uint64_t> taken;
      for (auto& [key, e] : self->state.entries) {
        if (e.passivating || !e.remote_node.empty() || taken[e.kind]++ >= per_kind)
          continue;
        kinds.push_back(e.kind);
        ids.push_back(e.id);
        handles.push_back(e.handle);
      }
      return {std::move(kinds), std::move(ids), std::move(handles)};
    },
  };
}

} // namespace

caf::actor spawn_registry(caf::actor_system& sys, registry_options opts,
                          std::map<std::string, entity_factory> kinds) {
  return sys.spawn([opts = std::move(opts), kinds = std::move(kinds)](registry_actor* self) mutable {
    return registry_behavior(self, std::move(opts), std::move(kinds));
  });
}

} // namespace parley::runtime
