#include "actors/tasks/lease_broker.hpp"

#include "actors/runtime/errors.hpp"
#include "actors/tasks/lease_revocation.hpp"
#include "actors/tasks/shard_request.hpp"
#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_metrics.hpp"
#include "actors/tasks/task_rules.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>

namespace parley::tasks {

namespace {

// Its own timers: the wait with this number has run out of time; (in a cluster) look for
// members whose brokers have not told it their ready tasks yet.
using lease_broker_impl =
  lease_broker_api::extend<caf::reacts_to<timeout_atom, uint64_t>, caf::reacts_to<tick_atom>>;

// How long a shard may take to grant: one durable write. Long on purpose: a grant answered after
// the broker stopped waiting would be a lease nobody holds until it runs out.
constexpr auto grant_timeout = std::chrono::minutes{10};

// In a cluster: how often the broker looks for members it has not synchronized with, and how
// long one such exchange may take.
constexpr auto peer_check_interval = std::chrono::seconds{1};
constexpr auto peer_sync_timeout = std::chrono::seconds{5};

// Order among ready tasks: higher priority first, then earlier due time, then id.
struct ready_key {
  int32_t priority;
  int64_t due_ms;
  std::string id;

  bool operator<(const ready_key& o) const {
    return std::tie(o.priority, due_ms, id) < std::tie(priority, o.due_ms, o.id);
  }
};

// A worker's request while the broker serves it.
struct waiter {
  uint64_t number;
  pb::LeaseWait wait;  // its request has every default filled in (check_lease_request)
  caf::typed_response_promise<pb::LeaseResponse> answer;
  int64_t deadline_ms;
};

// The grants asked of shards for one waiter.
struct round {
  waiter w;
  std::vector<std::string> picked;  // best first: the answer keeps this order
  pb::LeaseResponse granted;
  size_t pending = 0;
  bool withdrawn = false;  // its worker went away: what is granted is revoked
};

struct ready_entry {
  std::string type;
  std::string owner;
  ready_key key;
  std::string origin;  // the peer that relayed the offer; empty: one of this node's shards
};

// How far this broker has applied what a peer's broker told it (BrokerPosition).
struct peer_position {
  uint64_t stream = 0;
  uint64_t version = 0;
};

struct broker_state {
  tasks_context_ptr ctx;
  std::unordered_map<std::string, std::set<ready_key>> ready;  // by task type
  // The same tasks by (owner, type), for workers of ordinary users, who lease only their own.
  std::unordered_map<std::string, std::set<ready_key>> ready_of_owner;
  std::unordered_map<std::string, ready_entry> by_id;
  std::list<waiter> waiters;  // oldest first
  // Rounds of waiters that can be withdrawn (a wait id), while their shards grant.
  std::unordered_map<std::string, std::shared_ptr<round>> granting;
  uint64_t next_waiter = 0;
  // In a cluster: the members whose brokers sent this one their ready tasks, with how far it
  // has heard from them since, and those asked.
  std::map<std::string, peer_position> synced;
  std::set<std::string> syncing;
  // This broker's own place in what it tells peers.
  uint64_t stream = 0;
  uint64_t version = 0;

  static inline const char* name = "parley.lease_broker";
};

using broker_actor = lease_broker_impl::stateful_pointer<broker_state>;

std::string owner_type(const std::string& owner, const std::string& type) {
  std::string out = owner;
  out += '\0';
  out += type;
  return out;
}

// The ready set of `type` that `w` may lease from.
std::set<ready_key>* ready_set(broker_state& st, const pb::LeaseWait& w, const std::string& type) {
  bool any = leases_any(w.caller());
  auto& sets = any ? st.ready : st.ready_of_owner;
  auto it = sets.find(any ? type : owner_type(w.caller().user(), type));
  return it == sets.end() || it->second.empty() ? nullptr : &it->second;
}

bool has_ready(broker_state& st, const pb::LeaseWait& w) {
  for (auto& type : w.request().task_types())
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
std::vector<std::string> pick(broker_state& st, const pb::LeaseWait& w) {
  std::vector<std::string> out;
  auto max_tasks = static_cast<size_t>(w.request().max_tasks());
  while (out.size() < max_tasks) {
    std::set<ready_key>* best = nullptr;
    for (auto& type : w.request().task_types()) {
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

template <class Msg>
constexpr auto withdraw_or_ready() {
  if constexpr (std::is_same_v<Msg, pb::ReadyTasks>)
    return ready_atom_v;
  else
    return withdraw_atom_v;
}

pb::BrokerPosition position(const broker_state& st) {
  pb::BrokerPosition out;
  out.set_node(st.ctx->router->local_node());
  out.set_stream(st.stream);
  out.set_version(st.version);
  return out;
}

// In a cluster, what every other node's broker must hear: the offers and withdrawals of this
// node's shards, and the tasks leased here. One message per node, numbered; a peer whose link
// is down misses it and notices the gap at the next message or position (heard), then asks for
// this node's ready tasks again (its picks of a task leased meanwhile are refused by the shard).
template <class Msg>
void tell_peers(broker_actor self, Msg msg) {
  auto& st = self->state;
  if (!st.ctx->clustered())
    return;
  ++st.version;
  *msg.mutable_position() = position(st);
  for (auto& [node, peer] : st.ctx->router->others(lease_broker_service))
    self->send(caf::actor_cast<lease_broker_api>(peer), withdraw_or_ready<Msg>(), msg);
}

// The workers waiting and the tasks ready, for /metrics.
void update_gauges(broker_state& st) {
  instruments().waiting_workers.set(static_cast<int64_t>(st.waiters.size()));
  instruments().ready_offers.set(static_cast<int64_t>(st.by_id.size()));
}

void serve(broker_actor self, waiter w);

// One shard's grant is in: once every shard of the round has answered, the worker gets the
// leases in the order they were picked; a withdrawn worker gets none, and they are revoked.
void granted(broker_actor self, const std::shared_ptr<round>& r) {
  if (--r->pending > 0)
    return;
  auto& st = self->state;
  auto& wait_id = r->w.wait.wait_id();
  if (!wait_id.empty())
    st.granting.erase(wait_id);
  if (r->withdrawn) {
    if (r->granted.leases_size() > 0)
      revoke_leases(self->system(), st.ctx, r->w.wait.caller(), r->granted);
    r->w.answer.deliver(pb::LeaseResponse{});
    return;
  }
  if (r->granted.leases().empty() && st.ctx->clock() < r->w.deadline_ms)
    return serve(self, std::move(r->w));  // every pick was taken meanwhile: keep waiting
  if (st.ctx->clustered() && r->granted.leases_size() > 0) {
    pb::TakenTasks taken;
    for (auto& l : r->granted.leases())
      taken.add_task_ids(l.task_id());
    tell_peers(self, taken);
  }
  auto rank = [&r](const pb::Lease& l) {
    return std::find(r->picked.begin(), r->picked.end(), l.task_id()) - r->picked.begin();
  };
  auto& leases = *r->granted.mutable_leases();
  std::sort(leases.begin(), leases.end(),
            [&rank](const pb::Lease& a, const pb::Lease& b) { return rank(a) < rank(b); });
  r->w.answer.deliver(std::move(r->granted));
}

// Asks the shards of `ids` to lease them for the waiter.
void grant(broker_actor self, waiter w, std::vector<std::string> ids) {
  auto& st = self->state;
  auto r = std::make_shared<round>();
  r->picked = ids;
  std::map<uint32_t, pb::GrantLeases> by_shard;
  for (auto& id : ids)
    by_shard[shard_of(id)].add_task_ids(std::move(id));
  r->pending = by_shard.size();
  r->w = std::move(w);
  update_gauges(st);
  auto& wait = r->w.wait;
  if (!wait.wait_id().empty())
    st.granting[wait.wait_id()] = r;
  for (auto& [shard, g] : by_shard) {
    *g.mutable_caller() = wait.caller();
    g.set_worker_id(wait.request().worker_id());
    g.set_lease_ms(int64_t{wait.request().lease_sec()} * 1000);
    request_shard(
      self, st.ctx, shard, grant_timeout,
      [self, r](pb::LeaseResponse& leases) {
        for (auto& l : *leases.mutable_leases())
          *r->granted.add_leases() = std::move(l);
        granted(self, r);
      },
      [self, r](caf::error& e) {
        spdlog::warn("lease broker: a shard did not grant: {}", to_fault(e).message);
        granted(self, r);
      },
      lease_atom_v, std::move(g));
  }
}

// Serves a worker now if anything matches, else parks it until something does or time is up.
void serve(broker_actor self, waiter w) {
  auto& st = self->state;
  auto ids = pick(st, w.wait);
  if (!ids.empty())
    return grant(self, std::move(w), std::move(ids));
  auto left = w.deadline_ms - st.ctx->clock();
  if (left <= 0) {
    w.answer.deliver(pb::LeaseResponse{});
    return;
  }
  self->delayed_send(self, std::chrono::milliseconds{left}, timeout_atom_v, w.number);
  st.waiters.push_back(std::move(w));
  update_gauges(st);
}

caf::result<pb::LeaseResponse> lease(broker_actor self, pb::LeaseWait& wait) {
  auto& st = self->state;
  if (auto err = check_lease_request(*wait.mutable_request()))
    return make_error(err);
  waiter w{st.next_waiter++, std::move(wait), self->make_response_promise<pb::LeaseResponse>(),
           0};
  w.deadline_ms = st.ctx->clock() + w.wait.request().wait_ms();
  auto answer = w.answer;
  serve(self, std::move(w));
  return answer;
}

// The worker of `wait_id` went away: a parked wait ends empty; a round being granted for it
// revokes what it gets.
void withdraw_wait(broker_actor self, const pb::WithdrawWait& msg) {
  auto& st = self->state;
  if (msg.wait_id().empty())
    return;
  for (auto it = st.waiters.begin(); it != st.waiters.end();) {
    if (it->wait.wait_id() != msg.wait_id()) {
      ++it;
      continue;
    }
    it->answer.deliver(pb::LeaseResponse{});
    it = st.waiters.erase(it);
  }
  update_gauges(st);
  if (auto it = st.granting.find(msg.wait_id()); it != st.granting.end())
    it->second->withdrawn = true;
}

void offer(broker_actor self, const pb::ReadyTasks& tasks) {
  auto& st = self->state;
  const auto& origin = tasks.relayed() ? tasks.position().node() : std::string{};
  for (auto& t : tasks.tasks()) {
    if (st.by_id.count(t.id()))
      continue;
    ready_key key{t.priority(), t.due_ms(), t.id()};
    st.ready[t.task_type()].insert(key);
    if (!t.owner().empty())
      st.ready_of_owner[owner_type(t.owner(), t.task_type())].insert(key);
    st.by_id.emplace(t.id(), ready_entry{t.task_type(), t.owner(), std::move(key), origin});
  }
  if (!tasks.relayed() && st.ctx->clustered()) {
    auto relayed = tasks;
    relayed.set_relayed(true);
    tell_peers(self, relayed);
  }
  // Oldest waiters first; each takes what matches it.
  for (auto it = st.waiters.begin(); it != st.waiters.end();) {
    if (!has_ready(st, it->wait)) {
      ++it;
      continue;
    }
    auto w = std::move(*it);
    it = st.waiters.erase(it);
    auto ids = pick(st, w.wait);
    grant(self, std::move(w), std::move(ids));
  }
  update_gauges(st);
}

void time_out(broker_actor self, uint64_t number) {
  auto& st = self->state;
  for (auto it = st.waiters.begin(); it != st.waiters.end(); ++it) {
    if (it->number != number)
      continue;
    it->answer.deliver(pb::LeaseResponse{});
    st.waiters.erase(it);
    update_gauges(st);
    return;
  }
}

void withdraw_task(broker_actor self, const pb::WithdrawTask& msg) {
  remove_ready(self->state, msg.task_id());
  update_gauges(self->state);
  if (!msg.relayed() && self->state.ctx->clustered()) {
    auto relayed = msg;
    relayed.set_relayed(true);
    tell_peers(self, relayed);
  }
}

// The ready tasks this node's shards offered, for a peer's broker that has just seen this node
// (or found a gap), with the position they stand for.
pb::ReadyTasks local_ready(broker_state& st) {
  pb::ReadyTasks out;
  out.set_relayed(true);
  *out.mutable_position() = position(st);
  for (auto& [id, e] : st.by_id) {
    if (!e.origin.empty())
      continue;
    auto* t = out.add_tasks();
    t->set_id(id);
    t->set_task_type(e.type);
    t->set_owner(e.owner);
    t->set_priority(e.key.priority);
    t->set_due_ms(e.key.due_ms);
  }
  return out;
}

// Drops the ready tasks that `node`'s broker relayed (before its snapshot replaces them, or when
// it left).
void forget(broker_state& st, const std::string& node) {
  std::vector<std::string> ids;
  for (auto& [id, e] : st.by_id)
    if (e.origin == node)
      ids.push_back(id);
  for (auto& id : ids)
    remove_ready(st, id);
}

// Asks `node`'s broker for the ready tasks of its shards; they replace what this broker had
// from it, and its numbered messages are applied from the position they stand for.
void sync_with(broker_actor self, const std::string& node) {
  auto& st = self->state;
  if (st.syncing.count(node))
    return;
  auto peer = st.ctx->router->at(lease_broker_service, node);
  if (!peer)
    return;
  st.synced.erase(node);
  st.syncing.insert(node);
  self->request(caf::actor_cast<lease_broker_api>(peer), peer_sync_timeout, ready_atom_v)
    .then(
      [self, node](pb::ReadyTasks& tasks) {
        auto& st = self->state;
        st.syncing.erase(node);
        tasks.set_relayed(true);
        tasks.mutable_position()->set_node(node);
        st.synced[node] = peer_position{tasks.position().stream(), tasks.position().version()};
        forget(st, node);
        offer(self, tasks);
      },
      [self, node](caf::error& e) {
        self->state.syncing.erase(node);  // asked again at the next check
        spdlog::debug("lease broker: ready tasks of {} not fetched yet: {}", node,
                      to_fault(e).message);
      });
}

// Whether a message a peer's broker told this one at `at` is to be applied; `numbered` for
// offers, withdrawals and tasks taken (each one step further), not for a position alone. A
// step missed (lost with a dropped peer link) or another stream (a restarted broker) has this
// broker ask that peer for its ready tasks again; the message itself is applied meanwhile (its
// effect is in what the peer answers, or comes after it). Messages from a node that is not a
// live member are dropped, as its ready tasks were.
bool heard(broker_actor self, const pb::BrokerPosition& at, bool numbered) {
  auto& st = self->state;
  const auto& node = at.node();
  auto members = st.ctx->router->other_nodes();
  if (std::find(members.begin(), members.end(), node) == members.end())
    return false;
  if (st.syncing.count(node))
    return numbered;  // the snapshot asked for is on its way, and this is part of it or after
  auto it = st.synced.find(node);
  if (it != st.synced.end() && it->second.stream == at.stream()) {
    auto next = it->second.version + (numbered ? 1 : 0);
    if (at.version() == next) {
      it->second.version = next;
      return numbered;
    }
    if (at.version() < next)
      return false;  // already in the snapshot
  }
  if (it != st.synced.end())
    instruments().broker_resyncs.inc();
  sync_with(self, node);
  return numbered;
}

// In a cluster, once a second: asks every member it has not heard from since it (or this node)
// joined for the ready tasks of that member's shards, forgets those of members that left, and
// tells every member where it stands, so that a message lost on a dropped link is noticed even
// when nothing else is told. Offers made after a sync arrive one by one (tell_peers).
void check_peers(broker_actor self) {
  auto& st = self->state;
  auto nodes = st.ctx->router->other_nodes();
  std::set<std::string> live{nodes.begin(), nodes.end()};
  for (auto it = st.synced.begin(); it != st.synced.end();) {
    if (live.count(it->first)) {
      ++it;
      continue;
    }
    forget(st, it->first);
    it = st.synced.erase(it);
  }
  update_gauges(st);
  for (auto& node : nodes)
    if (!st.synced.count(node))
      sync_with(self, node);
  auto at = position(st);
  for (auto& [node, peer] : st.ctx->router->others(lease_broker_service))
    self->send(caf::actor_cast<lease_broker_api>(peer), ready_atom_v, at);
  self->delayed_send(self, peer_check_interval, tick_atom_v);
}

// The node shuts down: every worker still waiting hears it now rather than at its deadline
// (a parked long poll would otherwise hold the shutdown for up to a minute).
void shut_down(broker_actor self, const caf::exit_msg& msg) {
  auto& st = self->state;
  auto err = make_error(errc::unavailable, "the lease broker is shutting down");
  for (auto& w : st.waiters)
    w.answer.deliver(err);
  for (auto& [wait_id, r] : st.granting)
    r->w.answer.deliver(err);
  st.waiters.clear();
  st.granting.clear();
  self->quit(msg.reason);
}

lease_broker_impl::behavior_type broker_behavior(broker_actor self, tasks_context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  std::random_device rd;
  self->state.stream = (uint64_t{rd()} << 32) | rd();
  self->set_exit_handler([self](caf::exit_msg& msg) { shut_down(self, msg); });
  if (self->state.ctx->clustered())
    self->send(self, tick_atom_v);
  return {
    [self](lease_atom, pb::LeaseWait& wait) { return lease(self, wait); },
    [self](withdraw_atom, const pb::WithdrawWait& msg) { withdraw_wait(self, msg); },
    [self](ready_atom, const pb::ReadyTasks& tasks) {
      if (!tasks.relayed() || heard(self, tasks.position(), true))
        offer(self, tasks);
    },
    [self](withdraw_atom, const pb::WithdrawTask& msg) {
      if (!msg.relayed() || heard(self, msg.position(), true))
        withdraw_task(self, msg);
    },
    [self](withdraw_atom, const pb::TakenTasks& msg) {
      if (!heard(self, msg.position(), true))
        return;
      for (auto& id : msg.task_ids())
        remove_ready(self->state, id);
      update_gauges(self->state);
    },
    [self](ready_atom, const pb::BrokerPosition& at) { heard(self, at, false); },
    [self](ready_atom) { return local_ready(self->state); },
    [self](timeout_atom, uint64_t number) { time_out(self, number); },
    [self](tick_atom) { check_peers(self); },
  };
}

} // namespace

lease_broker_api spawn_lease_broker(caf::actor_system& sys, tasks_context_ptr ctx) {
  return caf::actor_cast<lease_broker_api>(sys.spawn(broker_behavior, std::move(ctx)));
}

} // namespace parley::tasks
