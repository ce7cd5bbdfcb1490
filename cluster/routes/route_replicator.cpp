#include "cluster/routes/route_replicator.hpp"

#include "actors/chat/chat_api.hpp"
#include "cluster/link/forwarder.hpp"
#include "cluster/link/message_bytes.hpp"
#include "cluster/placement/routing_table.hpp"
#include "cluster/routes/route_wire.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace parley::cluster {

namespace {

using batch_atom = caf::atom_constant<caf::atom("rt_batch")>;
using beat_atom = caf::atom_constant<caf::atom("rt_beat")>;
using ask_atom = caf::atom_constant<caf::atom("rt_ask")>;

// The actor with its timers.
using replicator_actor_api = route_replicator_api::extend<
  caf::reacts_to<batch_atom>,
  caf::reacts_to<beat_atom>,
  caf::reacts_to<ask_atom, std::string>>;

struct route_metrics {
  metrics::gauge& entries = metrics::global().get_gauge(
    "cluster_routes_entries", "Sessions in the replicated routing table, this node's included");
  metrics::gauge& remote_users = metrics::global().get_gauge(
    "cluster_routes_remote_users", "Users with a session on another node");
  metrics::counter& sent = metrics::global().get_counter(
    "cluster_routes_deltas_total", "Routing-table deltas, by direction", "direction=\"sent\"");
  metrics::counter& applied = metrics::global().get_counter(
    "cluster_routes_deltas_total", "Routing-table deltas, by direction", "direction=\"applied\"");
  metrics::counter& gaps = metrics::global().get_counter(
    "cluster_routes_gaps_total",
    "Peers' deltas or heartbeats that showed a gap (a snapshot follows)");
  metrics::counter& snapshots = metrics::global().get_counter(
    "cluster_routes_snapshots_total", "Peers' routing-table snapshots applied");
  metrics::counter& drops = metrics::global().get_counter(
    "cluster_routes_drops_total", "Members that left, their sessions dropped");
};

route_metrics& instruments() {
  static route_metrics m;
  return m;
}

struct replicator_state {
  route_replicator_options opts;
  std::unique_ptr<routing_table> table;
  std::set<std::string> members;  // live peers, this node left out
  std::map<std::string, chat::chat_service_api> services;  // their chat services (forwarders)
  // Peers asked for a snapshot (in flight, or waiting to ask again).
  std::set<std::string> asking;
  // Users whose last session here closed since the last delta -> when (their last_seen).
  std::unordered_map<std::string, int64_t> gone_at;
  bool batch_armed = false;
  std::optional<caf::actor_clock::time_point> last_batch;  // when the last delta was drained

  static inline const char* name = "parley.route_replicator";
};

using replicator_actor = replicator_actor_api::stateful_pointer<replicator_state>;

bool has_local_session(const replicator_state& st, const std::string& user) {
  for (auto& s : st.table->sessions_of(user))
    if (s.node_id == st.opts.node_id)
      return true;
  return false;
}

// Sends `msg` one way to every live peer's "routes" service (written once for all of them).
void send_to_peers(replicator_actor self, const caf::message& msg) {
  auto& st = self->state;
  if (!st.opts.link || st.members.empty())
    return;
  auto bytes = message_to_bytes(self->system(), msg);
  if (!bytes) {
    spdlog::error("cluster: a routing-table message could not be written: {}",
                  self->system().render(bytes.error()));
    return;
  }
  for (auto& node : st.members)
    caf::anon_send(st.opts.link, forward_atom_v, node, std::string{routes_service_name},
                   std::string{}, *bytes);
}

// Publishes what changed for `users` to chat: their sessions on other nodes, and to presence
// those who came online or went offline elsewhere while not connected here.
void publish(replicator_actor self, const std::vector<std::string>& users,
             const std::unordered_map<std::string, int64_t>& last_seen) {
  auto& st = self->state;
  auto& chat = *st.opts.chat;
  auto& view = *chat.cluster;
  std::unordered_set<std::string> done;
  for (auto& user : users) {
    if (!done.insert(user).second)
      continue;
    std::vector<chat::remote_session> remote;
    for (auto& s : st.table->sessions_of(user))
      if (s.node_id != st.opts.node_id)
        remote.push_back({s.node_id, s.session_id, s.device_id});
    bool was = view.online(user);
    bool now = !remote.empty();
    view.set_sessions(user, std::move(remote));
    if (was == now || !chat.presence || chat.routes.online(user))
      continue;
    if (now) {
      self->send(chat.presence, online_atom_v, user);
    } else {
      auto seen = last_seen.find(user);
      self->send(chat.presence, offline_atom_v, user,
                 seen != last_seen.end() ? seen->second : st.opts.clock());
    }
  }
  auto& m = instruments();
  m.entries.set(static_cast<double>(st.table->counters().entries));
  m.remote_users.set(static_cast<double>(view.users()));
}

void ask(replicator_actor self, const std::string& origin);

void apply_snapshot(replicator_actor self, const pb::RoutingSnapshot& snapshot) {
  auto& st = self->state;
  if (st.members.count(snapshot.origin()) == 0)
    return;
  auto users = st.table->users_of(snapshot.origin());
  if (st.table->apply(from_proto(snapshot)) != apply_result::applied)
    return;
  instruments().snapshots.inc();
  for (auto& e : snapshot.entries())
    users.push_back(e.user_id());
  publish(self, users, {});
}

// Asks `origin` for its snapshot, once at a time, again after a pause while it is a member.
void ask(replicator_actor self, const std::string& origin) {
  auto& st = self->state;
  if (st.members.count(origin) == 0 || !st.asking.insert(origin).second)
    return;
  auto retry = [self, origin] {
    self->delayed_send(self, self->state.opts.retry_delay, ask_atom::value, origin);
  };
  auto bytes = message_to_bytes(self->system(), caf::make_message(snapshot_atom_v));
  if (!st.opts.link || !bytes)
    return retry();
  auto deadline = st.opts.snapshot_deadline;
  self
    ->request(st.opts.link, deadline + link_grace, forward_atom_v, origin,
              std::string{routes_service_name}, std::string{},
              static_cast<int64_t>(deadline.count()), std::move(*bytes))
    .then(
      [self, origin, retry](std::string& reply) {
        auto msg = message_from_bytes(self->system(), reply);
        if (!msg || !msg->match_elements<pb::RoutingSnapshot>()) {
          spdlog::warn("cluster: {} answered a routing snapshot request with something else",
                       origin);
          return retry();
        }
        self->state.asking.erase(origin);
        apply_snapshot(self, msg->get_as<pb::RoutingSnapshot>(0));
      },
      [self, origin, retry](caf::error& err) {
        spdlog::debug("cluster: no routing snapshot from {} yet: {}", origin,
                      self->system().render(err));
        retry();
      });
}

void apply_delta(replicator_actor self, const pb::RoutingDelta& delta) {
  auto& st = self->state;
  // A non-member's deltas are not taken: a node cut off from etcd (dropped) must not bring its
  // sessions back, and a new member is asked for its snapshot once it is listed.
  if (st.members.count(delta.origin()) == 0)
    return;
  // A newer incarnation (the origin restarted before its lease ran out) clears everything of
  // the old one: those users' lookups change too.
  std::vector<std::string> users;
  if (auto known = st.table->position_of(delta.origin());
      known && delta.incarnation() > known->incarnation)
    users = st.table->users_of(delta.origin());
  switch (st.table->apply(from_proto(delta))) {
    case apply_result::applied: {
      instruments().applied.inc();
      users.reserve(users.size() + static_cast<size_t>(delta.changes_size()));
      for (auto& c : delta.changes())
        users.push_back(c.entry().user_id());
      std::unordered_map<std::string, int64_t> last_seen;
      for (auto& g : delta.last_seen())
        last_seen[g.user_id()] = g.last_seen_ms();
      publish(self, users, last_seen);
      break;
    }
    case apply_result::needs_snapshot:
      instruments().gaps.inc();
      publish(self, users, {});  // a newer incarnation's first delta seen late: old ones gone
      ask(self, delta.origin());
      break;
    case apply_result::ignored:
      break;
  }
}

// A heartbeat: asks for a snapshot when the origin is ahead of what is known of it.
void check_position(replicator_actor self, const pb::RoutingDelta& position) {
  auto& st = self->state;
  if (st.members.count(position.origin()) == 0)
    return;
  auto known = st.table->position_of(position.origin());
  if (known && (position.incarnation() < known->incarnation
                || (position.incarnation() == known->incarnation
                    && position.version() <= known->version)))
    return;
  if (known)
    instruments().gaps.inc();
  ask(self, position.origin());
}

void send_batch(replicator_actor self);

void on_local_change(replicator_actor self, const std::string& user, const std::string& session,
                     const std::string& device, bool added) {
  auto& st = self->state;
  if (added) {
    st.table->add_local(user, session, device);
    st.gone_at.erase(user);
  } else {
    st.table->remove_local(user, session);
    if (!has_local_session(st, user))
      st.gone_at[user] = st.opts.clock();
  }
  if (st.batch_armed || !st.table->has_pending())
    return;
  // The first change after a quiet spell goes at once; the ones that follow within the
  // interval wait for the next batch.
  auto wait = st.last_batch ? *st.last_batch + st.opts.batch_interval - self->clock().now()
                            : caf::timespan{0};
  if (wait <= caf::timespan{0})
    return send_batch(self);
  st.batch_armed = true;
  self->delayed_send(self, wait, batch_atom::value);
}

// The local changes since the last batch, as one delta to every peer.
void send_batch(replicator_actor self) {
  auto& st = self->state;
  st.batch_armed = false;
  st.last_batch = self->clock().now();
  auto delta = st.table->drain();
  auto gone = std::move(st.gone_at);
  st.gone_at.clear();
  instruments().entries.set(static_cast<double>(st.table->counters().entries));
  if (!delta)
    return;
  auto out = to_proto(*delta);
  for (auto& [user, at] : gone) {
    if (has_local_session(st, user))
      continue;
    auto* g = out.add_last_seen();
    g->set_user_id(user);
    g->set_last_seen_ms(at);
  }
  instruments().sent.inc();
  send_to_peers(self, caf::make_message(delta_atom_v, std::move(out)));
}

void send_heartbeat(replicator_actor self) {
  auto& st = self->state;
  auto at = st.table->position_of(st.opts.node_id);
  pb::RoutingDelta position;
  position.set_origin(st.opts.node_id);
  position.set_incarnation(at ? at->incarnation : st.opts.incarnation);
  position.set_version(at ? at->version : 0);
  send_to_peers(self, caf::make_message(position_atom_v, std::move(position)));
  self->delayed_send(self, st.opts.heartbeat_interval, beat_atom::value);
}

// Every live peer's chat service for chat to reach (a forwarder through the link).
void publish_peers(replicator_actor self) {
  auto& st = self->state;
  if (!st.opts.link)
    return;
  for (auto& n : st.members)
    if (st.services.count(n) == 0)
      st.services[n] = caf::actor_cast<chat::chat_service_api>(
        spawn_forwarder<chat::chat_service_api>(self->system(),
                                                {st.opts.link, n, chat::chat_service_name, {},
                                                 st.opts.request_timeout}));
  st.opts.chat->cluster->set_peers(st.services);
}

void set_members(replicator_actor self, const std::vector<std::string>& nodes) {
  auto& st = self->state;
  std::set<std::string> live;
  for (auto& n : nodes)
    if (n != st.opts.node_id)
      live.insert(n);
  for (auto& gone : st.members) {
    if (live.count(gone) != 0)
      continue;
    // Down (or left): its sessions vanish at once, whatever its link still says.
    auto users = st.table->users_of(gone);
    st.table->drop(gone);
    st.asking.erase(gone);
    instruments().drops.inc();
    if (auto it = st.services.find(gone); it != st.services.end()) {
      caf::anon_send(caf::actor_cast<caf::actor>(it->second), passivate_atom_v);
      st.services.erase(it);
    }
    spdlog::info("cluster: routes of {} dropped ({} users)", gone, users.size());
    publish(self, users, {});
  }
  std::vector<std::string> fresh;
  for (auto& n : live)
    if (st.members.count(n) == 0)
      fresh.push_back(n);
  st.members = std::move(live);
  for (auto& n : fresh) {
    st.table->readmit(n);
    ask(self, n);
  }
  publish_peers(self);
}

} // namespace

route_replicator_api spawn_route_replicator(caf::actor_system& sys,
                                            route_replicator_options opts) {
  auto self = sys.spawn([opts = std::move(opts)](replicator_actor self) mutable
                        -> replicator_actor_api::behavior_type {
    auto& st = self->state;
    st.opts = std::move(opts);
    st.table = std::make_unique<routing_table>(st.opts.node_id, st.opts.incarnation);
    self->set_exit_handler([self](caf::exit_msg& msg) {
      for (auto& [node, service] : self->state.services)
        caf::anon_send(caf::actor_cast<caf::actor>(service), passivate_atom_v);
      self->state.services.clear();
      self->quit(msg.reason);
    });
    self->delayed_send(self, st.opts.heartbeat_interval, beat_atom::value);
    return {
      // From peers.
      [self](delta_atom, const pb::RoutingDelta& delta) { apply_delta(self, delta); },
      [self](position_atom, const pb::RoutingDelta& position) { check_position(self, position); },
      [self](snapshot_atom) { return to_proto(self->state.table->local_snapshot()); },
      // From this node.
      [self](route_atom, const std::string& user, const std::string& session,
             const std::string& device, bool added) {
        on_local_change(self, user, session, device, added);
      },
      [self](members_changed_atom, const std::vector<std::string>& nodes,
             const std::vector<std::string>&) { set_members(self, nodes); },
      [self](peer_link_atom, const caf::actor& link) {
        self->state.opts.link = link;
        publish_peers(self);
      },
      [self](count_atom) { return self->state.table->counters().entries; },
      // Timers.
      [self](batch_atom) { send_batch(self); },
      [self](beat_atom) { send_heartbeat(self); },
      [self](ask_atom, const std::string& origin) {
        self->state.asking.erase(origin);
        ask(self, origin);
      },
    };
  });
  return caf::actor_cast<route_replicator_api>(self);
}

} // namespace parley::cluster
