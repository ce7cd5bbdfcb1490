#include "actors/tasks/lease_broker.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_messages.hpp"
#include "actors/tasks/task_metrics.hpp"
#include "common/clock.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <list>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace parley::tasks {

namespace {

// Order among ready tasks: higher priority first, then earlier due time, then id.
struct ready_key {
  int32_t priority;
  int64_t due_ms;
  std::string id;

  bool operator<(const ready_key& o) const {
    return std::tie(o.priority, due_ms, id) < std::tie(priority, o.due_ms, o.id);
  }
};

struct waiter {
  uint64_t number;
  lease_wait request;
  int64_t deadline_ms;
};

struct ready_entry {
  std::string type;
  std::string owner;
  ready_key key;
};

struct broker_state {
  tasks_context_ptr ctx;
  std::unordered_map<std::string, std::set<ready_key>> ready;  // by task type
  // The same tasks by (owner, type), for workers of ordinary users, who lease only their own.
  std::unordered_map<std::string, std::set<ready_key>> ready_of_owner;
  std::unordered_map<std::string, ready_entry> by_id;
  std::list<waiter> waiters;  // oldest first
  uint64_t next_waiter = 0;

  static inline const char* name = "parley.lease_broker";
};

using broker_actor = caf::stateful_actor<broker_state>;

std::string owner_type(const std::string& owner, const std::string& type) {
  std::string out = owner;
  out += '\0';
  out += type;
  return out;
}

// The ready set of `type` that `w` may lease from.
std::set<ready_key>* ready_set(broker_state& st, const lease_wait& w, const std::string& type) {
  auto& sets = w.caller.leases_any() ? st.ready : st.ready_of_owner;
  auto it = sets.find(w.caller.leases_any() ? type : owner_type(w.caller.user, type));
  return it == sets.end() || it->second.empty() ? nullptr : &it->second;
}

bool has_ready(broker_state& st, const lease_wait& w) {
  for (auto& type : w.task_types)
    if (ready_set(st, w, type))
      return true;
  return false;
}

void remove_ready(broker_state& st, const std::string& id) {
  auto it = st.by_id.find(id);
  if (it == st.by_id.end())
    return;
  auto& e = it->second;
  if (auto r = st.ready.find(e.type); r != st.ready.end()) {
    r->second.erase(e.key);
    if (r->second.empty())
      st.ready.erase(r);
  }
  if (!e.owner.empty()) {
    auto o = st.ready_of_owner.find(owner_type(e.owner, e.type));
    if (o != st.ready_of_owner.end()) {
      o->second.erase(e.key);
      if (o->second.empty())
        st.ready_of_owner.erase(o);
    }
  }
  st.by_id.erase(it);
}

// Takes up to max_tasks of the best ready tasks of the worker's types out of the ready sets.
std::vector<std::string> pick(broker_state& st, const lease_wait& w) {
  std::vector<std::string> out;
  while (out.size() < w.max_tasks) {
    std::set<ready_key>* best = nullptr;
    for (auto& type : w.task_types) {
      auto* set = ready_set(st, w, type);
      if (set && (!best || *set->begin() < *best->begin()))
        best = set;
    }
    if (!best)
      break;
    auto id = best->begin()->id;
    remove_ready(st, id);
    out.push_back(std::move(id));
  }
  return out;
}

void serve(broker_actor* self, waiter w);

// Asks the shards of `ids` to lease them; answers the worker with what they granted.
void grant(broker_actor* self, waiter w, std::vector<std::string> ids) {
  struct round {
    waiter w;
    std::vector<std::string> picked;  // best first: the answer keeps this order
    std::vector<pb::Lease> leases;
    size_t pending = 0;
  };
  auto r = std::make_shared<round>();
  r->picked = ids;
  std::map<uint32_t, lease_grant> by_shard;
  for (auto& id : ids) {
    auto& g = by_shard[shard_of(id)];
    g.task_ids.push_back(std::move(id));
  }
  r->pending = by_shard.size();
  r->w = std::move(w);
  auto done = [self, r] {
    if (--r->pending > 0)
      return;
    if (r->leases.empty() && unix_ms() < r->w.deadline_ms) {
      serve(self, std::move(r->w));  // every pick was taken meanwhile: keep waiting
      return;
    }
    auto rank = [&r](const pb::Lease& l) {
      return std::find(r->picked.begin(), r->picked.end(), l.task_id()) - r->picked.begin();
    };
    std::sort(r->leases.begin(), r->leases.end(),
              [&rank](const pb::Lease& a, const pb::Lease& b) { return rank(a) < rank(b); });
    r->w.request.reply({}, std::move(r->leases));
  };
  auto& st = self->state;
  for (auto& [shard, g] : by_shard) {
    g.caller = r->w.request.caller;
    g.worker_id = r->w.request.worker_id;
    g.lease_ms = r->w.request.lease_ms;
    self
      // No timeout: a shard always answers, and a grant answered after a timeout would burn
      // an attempt on a lease nobody holds.
      ->request(st.ctx->registry, caf::infinite, std::string{shard_kind}, std::to_string(shard),
                caf::make_message(lease_atom_v, std::move(g)))
      .then(
        [r, done](granted_leases& granted) {
          for (auto& l : granted.leases)
            r->leases.push_back(std::move(l));
          done();
        },
        [done](caf::error& e) {
          spdlog::warn("lease broker: a shard did not grant: {}", to_fault(e).message);
          done();
        });
  }
}

// Serves a worker now if anything matches, else parks it until something does or time is up.
void serve(broker_actor* self, waiter w) {
  auto& st = self->state;
  if (w.request.gone && w.request.gone->load())
    return;  // the worker hung up: nothing to answer, nothing to lease
  auto ids = pick(st, w.request);
  if (!ids.empty())
    return grant(self, std::move(w), std::move(ids));
  auto left = w.deadline_ms - unix_ms();
  if (left <= 0)
    return w.request.reply({}, {});
  self->delayed_send(self, std::chrono::milliseconds{left}, timeout_atom_v, w.number);
  st.waiters.push_back(std::move(w));
  instruments().waiting_workers.set(static_cast<int64_t>(st.waiters.size()));
}

void offer(broker_actor* self, std::vector<ready_task>& tasks) {
  auto& st = self->state;
  for (auto& t : tasks) {
    if (st.by_id.count(t.id))
      continue;
    ready_key key{t.priority, t.due_ms, t.id};
    st.ready[t.task_type].insert(key);
    if (!t.owner.empty())
      st.ready_of_owner[owner_type(t.owner, t.task_type)].insert(key);
    st.by_id.emplace(t.id, ready_entry{t.task_type, t.owner, std::move(key)});
  }
  // Oldest waiters first; each takes what matches it. A worker that hung up while waiting
  // would take tasks nobody runs until their leases expire: it is dropped instead.
  for (auto it = st.waiters.begin(); it != st.waiters.end();) {
    if (it->request.gone && it->request.gone->load()) {
      it = st.waiters.erase(it);
      continue;
    }
    if (!has_ready(st, it->request)) {
      ++it;
      continue;
    }
    auto w = std::move(*it);
    it = st.waiters.erase(it);
    auto ids = pick(st, w.request);
    grant(self, std::move(w), std::move(ids));
  }
  instruments().waiting_workers.set(static_cast<int64_t>(st.waiters.size()));
}

void withdraw(broker_actor* self, const std::string& id) {
  remove_ready(self->state, id);
}

void time_out(broker_actor* self, uint64_t number) {
  auto& st = self->state;
  for (auto it = st.waiters.begin(); it != st.waiters.end(); ++it) {
    if (it->number != number)
      continue;
    auto w = std::move(*it);
    st.waiters.erase(it);
    instruments().waiting_workers.set(static_cast<int64_t>(st.waiters.size()));
    w.request.reply({}, {});
    return;
  }
}

} // namespace

caf::actor spawn_lease_broker(caf::actor_system& sys, tasks_context_ptr ctx) {
  return sys.spawn([ctx](broker_actor* self) -> caf::behavior {
    self->state.ctx = ctx;
    return {
      [self](ready_atom, std::vector<ready_task>& tasks) { offer(self, tasks); },
      [self](withdraw_atom, const std::string& id) { withdraw(self, id); },
      [self](lease_atom, lease_wait& request) {
        auto& st = self->state;
        waiter w{st.next_waiter++, std::move(request), 0};
        w.deadline_ms = unix_ms() + w.request.wait_ms;
        serve(self, std::move(w));
      },
      [self](timeout_atom, uint64_t number) { time_out(self, number); },
    };
  });
}

} // namespace parley::tasks
