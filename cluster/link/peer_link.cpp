#include "cluster/link/peer_link.hpp"

#include "actors/runtime/errors.hpp"
#include "cluster/link/link_types.hpp"
#include "cluster/link/message_bytes.hpp"
#include "cluster/link/port_probe.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include <spdlog/spdlog.h>

#include <deque>
#include <unordered_map>

namespace parley::cluster {

namespace {

using connect_atom = caf::atom_constant<caf::atom("connect")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;

// One-way messages kept for a member while its link is not up, at most. Default: 1024
constexpr size_t max_held_casts = 1024;

struct peer {
  std::string address;   // host:port of its gateway
  gateway_api gateway;   // empty until linked
  caf::actor connector;  // detached: opens the link
  bool connecting = false;
  // One-way messages sent while the member had no link (it just joined, or its link is being
  // dialed again), sent in order once it is up. A member that joins links to us before we link
  // to it, so we hear of its sessions before we can reach it: dropping the chat deliveries of
  // that window would lose them for good on its connections (their first delivery starts above
  // them, which the receiving node cannot tell from a gap).
  std::deque<pb::Envelope> held;
};

struct pending_request {
  caf::typed_response_promise<std::string> reply;
  std::string node;
  caf::actor_clock::time_point sent;
};

struct link_metrics {
  metrics::gauge& linked = metrics::global().get_gauge(
    "cluster_peers_linked", "Peers this node has a live peer link to");
  metrics::counter& ups = metrics::global().get_counter(
    "cluster_link_changes_total", "Peer links opened or lost", "change=\"up\"");
  metrics::counter& downs = metrics::global().get_counter(
    "cluster_link_changes_total", "Peer links opened or lost", "change=\"down\"");
  metrics::counter& forwarded_ok = metrics::global().get_counter(
    "cluster_forwarded_requests_total", "Requests forwarded to the owner node, by outcome",
    "outcome=\"reply\"");
  metrics::counter& forwarded_error = metrics::global().get_counter(
    "cluster_forwarded_requests_total", "Requests forwarded to the owner node, by outcome",
    "outcome=\"error\"");
  metrics::counter& forwarded_unavailable = metrics::global().get_counter(
    "cluster_forwarded_requests_total", "Requests forwarded to the owner node, by outcome",
    "outcome=\"unavailable\"");
  metrics::histogram& forward_seconds = metrics::global().get_histogram(
    "cluster_forward_seconds", "Forwarded request to its answer, on the requesting node",
    {0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5});
  metrics::counter& served = metrics::global().get_counter(
    "cluster_served_requests_total", "Peers' requests and one-way messages served here");
  metrics::counter& casts_dropped = metrics::global().get_counter(
    "cluster_link_casts_dropped_total",
    "One-way messages dropped: more than max_held_casts waited for a member's link");
};

link_metrics& instruments() {
  static link_metrics m;
  return m;
}

struct link_state {
  peer_link_options opts;
  std::map<std::string, peer> peers;  // every member but this node
  std::unordered_map<uint64_t, pending_request> pending;
  uint64_t next_correlation = 0;

  static inline const char* name = "parley.peer_link";
};

using link_actor = caf::stateful_actor<link_state>;

// -- connecting ---------------------------------------------------------------------------------

// A peer's connector: its own thread, since CAF 0.17's remote_actor blocks (for minutes when
// the peer's host does not answer; the probe bounds that to probe_timeout).
caf::behavior connector(caf::event_based_actor* self, caf::actor link, std::string node,
                        std::string address, std::chrono::milliseconds probe_timeout) {
  return {
    [=](connect_atom) {
      auto [host, port] = split_host_port(address);
      if (port == 0) {
        self->send(link, peer_down_atom_v, node, "bad peer-link address " + address);
        return;
      }
      if (!port_answers(host, port, probe_timeout)) {
        self->send(link, peer_down_atom_v, node, address + " does not answer");
        return;
      }
      auto gateway = self->system().middleman().remote_actor<gateway_api>(host, port);
      if (!gateway) {
        self->send(link, peer_down_atom_v, node, self->system().render(gateway.error()));
        return;
      }
      self->send(link, peer_up_atom_v, node, caf::actor_cast<caf::actor>(*gateway));
    },
  };
}

void connect(link_actor* self, const std::string& node, peer& p) {
  if (p.gateway || p.connecting)
    return;
  p.connecting = true;
  self->send(p.connector, connect_atom::value);
}

// Fails every request pending on `node` at once: CAF would let them hang.
void fail_pending(link_actor* self, const std::string& node, const std::string& why) {
  auto& st = self->state;
  for (auto it = st.pending.begin(); it != st.pending.end();) {
    if (it->second.node != node) {
      ++it;
      continue;
    }
    instruments().forwarded_unavailable.inc();
    it->second.reply.deliver(make_error(errc::unavailable, "node " + node + " " + why));
    it = st.pending.erase(it);
  }
}

void link_lost(link_actor* self, const std::string& node, peer& p, const std::string& why) {
  if (p.gateway) {
    self->demonitor(p.gateway.address());
    p.gateway = gateway_api{};
    instruments().linked.sub(1);
    instruments().downs.inc();
    spdlog::warn("cluster: peer link to {} ({}) lost: {}", node, p.address, why);
  }
  fail_pending(self, node, why);
}

void set_members(link_actor* self, const std::vector<std::string>& nodes,
                 const std::vector<std::string>& addresses) {
  auto& st = self->state;
  std::map<std::string, std::string> members;
  for (size_t i = 0; i < nodes.size() && i < addresses.size(); ++i)
    if (nodes[i] != st.opts.node_id)
      members[nodes[i]] = addresses[i];
  for (auto it = st.peers.begin(); it != st.peers.end();) {
    auto m = members.find(it->first);
    if (m != members.end() && m->second == it->second.address) {
      ++it;
      continue;
    }
    // Gone from the member list (or moved): ownership changes only through etcd, so a member
    // that left is down even if its TCP link still answers.
    link_lost(self, it->first, it->second, "left the cluster");
    self->send_exit(it->second.connector, caf::exit_reason::user_shutdown);
    it = st.peers.erase(it);
  }
  for (auto& [node, address] : members) {
    if (st.peers.count(node) != 0)
      continue;
    auto& p = st.peers[node];
    p.address = address;
    p.connector = self->system().spawn<caf::detached>(connector, caf::actor{self}, node, address,
                                                      st.opts.probe_timeout);
    connect(self, node, p);
  }
}

// -- forwarding ---------------------------------------------------------------------------------

caf::result<std::string> forward(link_actor* self, const std::string& node, std::string kind,
                                 std::string id, int64_t deadline_ms, std::string payload) {
  auto& st = self->state;
  auto it = st.peers.find(node);
  if (it == st.peers.end() || !it->second.gateway) {
    instruments().forwarded_unavailable.inc();
    return make_error(errc::unavailable, "node " + node + " is not reachable from "
                                           + st.opts.node_id + " now; retry shortly");
  }
  pb::Envelope env;
  env.set_kind(pb::Envelope::REQUEST);
  env.set_correlation(++st.next_correlation);
  env.set_deadline_ms(static_cast<uint32_t>(std::max<int64_t>(deadline_ms, 1)));
  env.set_from_node(st.opts.node_id);
  env.set_target_kind(std::move(kind));
  env.set_target_id(std::move(id));
  env.set_payload(std::move(payload));
  auto rp = self->make_response_promise<std::string>();
  st.pending.emplace(env.correlation(), pending_request{rp, node, self->clock().now()});
  self->delayed_send(self, std::chrono::milliseconds{env.deadline_ms()}, timeout_atom_v,
                     env.correlation());
  self->send(it->second.gateway, std::move(env));
  return rp;
}

void forward_one_way(link_actor* self, const std::string& node, std::string kind, std::string id,
                     std::string payload) {
  auto& st = self->state;
  auto it = st.peers.find(node);
  if (it == st.peers.end())
    return;  // not a member (any more): its sessions and deliveries go with it
  pb::Envelope env;
  env.set_kind(pb::Envelope::CAST);
  env.set_from_node(st.opts.node_id);
  env.set_target_kind(std::move(kind));
  env.set_target_id(std::move(id));
  env.set_payload(std::move(payload));
  auto& p = it->second;
  if (p.gateway) {
    self->send(p.gateway, std::move(env));
  } else if (p.held.size() < max_held_casts) {
    p.held.push_back(std::move(env));
  } else {
    // Best effort past the bound: a chat delivery lost here shows as a gap at the next one.
    instruments().casts_dropped.inc();
  }
}

void settle(link_actor* self, const pb::Envelope& env) {
  auto& st = self->state;
  auto it = st.pending.find(env.correlation());
  if (it == st.pending.end())
    return;  // answered after its deadline: the caller already has `unavailable`
  auto& m = instruments();
  auto elapsed = std::chrono::duration<double>(self->clock().now() - it->second.sent).count();
  m.forward_seconds.observe(elapsed);
  if (env.kind() == pb::Envelope::REPLY) {
    m.forwarded_ok.inc();
    it->second.reply.deliver(env.payload());
  } else {
    m.forwarded_error.inc();
    it->second.reply.deliver(error_from_bytes(self->system(), env.payload()));
  }
  st.pending.erase(it);
}

// -- serving peers ------------------------------------------------------------------------------

void answer(link_actor* self, const gateway_api& to, uint64_t correlation,
            caf::expected<caf::message> result) {
  pb::Envelope env;
  env.set_correlation(correlation);
  env.set_from_node(self->state.opts.node_id);
  if (result) {
    auto bytes = message_to_bytes(self->system(), *result);
    if (bytes) {
      env.set_kind(pb::Envelope::REPLY);
      env.set_payload(std::move(*bytes));
    } else {
      result = make_error(errc::internal, "a reply could not be written: "
                                            + self->system().render(bytes.error()));
    }
  }
  if (!result) {
    env.set_kind(pb::Envelope::FAILURE);
    env.set_payload(error_to_bytes(self->system(), result.error()));
  }
  self->send(to, std::move(env));
}

// Delivers `msg` to `target` through `invoke`; on a bounce (the entity was passivated between
// the resolve and the delivery) resolves once more, as runtime::request_entity does.
// What a peer asked for, on its way to the local target.
struct delivery {
  const invoker* invoke;
  caf::message msg;
  bool one_way = false;
  caf::timespan within;
  answer_fn done;
  std::string kind;
  std::string id;
};

void deliver(link_actor* self, const caf::actor& target, delivery d, bool may_retry);

void resolve_and_deliver(link_actor* self, delivery d, bool may_retry) {
  auto& targets = self->state.opts.targets;
  auto done = d.done;
  self->request(targets.registry, d.within, resolve_atom_v, d.kind, d.id)
    .then([self, d, may_retry](caf::actor& handle,
                               caf::timespan) mutable { deliver(self, handle, std::move(d), may_retry); },
          [done](caf::error& err) { done(std::move(err)); });
}

void deliver(link_actor* self, const caf::actor& target, delivery d, bool may_retry) {
  auto retry = may_retry ? d : delivery{};
  auto done = d.done;
  auto on_answer = [self, retry, done, may_retry](caf::expected<caf::message> result) mutable {
    if (!result && result.error() == caf::sec::request_receiver_down && may_retry) {
      resolve_and_deliver(self, std::move(retry), false);
      return;
    }
    done(std::move(result));
  };
  auto& kind = d.kind;
  auto& msg = d.msg;
  if (!(*d.invoke)(self, target, d.msg, d.one_way, d.within, on_answer))
    done(make_error(errc::bad_request, "a peer sent a message that is not one of "
                                         + (kind.empty() ? std::string{"this target"} : kind)
                                         + "'s requests: " + caf::to_string(msg)));
}

void serve(link_actor* self, const pb::Envelope& env) {
  auto& st = self->state;
  auto& targets = st.opts.targets;
  instruments().served.inc();
  bool one_way = env.kind() == pb::Envelope::CAST;
  auto to = caf::actor_cast<gateway_api>(self->current_sender());
  answer_fn done;
  if (one_way)
    done = [](caf::expected<caf::message>) {};
  else
    done = [self, to, correlation = env.correlation()](caf::expected<caf::message> result) {
      answer(self, to, correlation, std::move(result));
    };
  auto within = std::chrono::duration_cast<caf::timespan>(
    std::min(std::chrono::milliseconds{env.deadline_ms() ? env.deadline_ms() : 1000},
             st.opts.max_deadline));
  auto msg = message_from_bytes(self->system(), env.payload());
  if (!msg) {
    done(make_error(errc::bad_request, "a request from " + env.from_node()
                                         + " did not read back: " + self->system().render(msg.error())));
    return;
  }
  delivery d{nullptr, std::move(*msg), one_way, within, done, env.target_kind(), env.target_id()};
  if (env.target_id().empty()) {
    auto service = targets.services.find(env.target_kind());
    if (service == targets.services.end())
      return done(make_error(errc::not_found, "no node service " + env.target_kind()));
    d.invoke = &service->second.second;
    deliver(self, service->second.first, std::move(d), false);
    return;
  }
  auto kind = targets.entity_kinds.find(env.target_kind());
  if (kind == targets.entity_kinds.end())
    return done(make_error(errc::not_found, "no entity kind " + env.target_kind()));
  // Only entities placed here are served: a request that raced a handoff is answered
  // `unavailable` (its caller retries against the new owner), never served from a node that
  // does not hold the data, and never forwarded on.
  auto where = targets.placement ? targets.placement->locate(env.target_kind(), env.target_id())
                                 : runtime::entity_location{};
  if (where.at != runtime::entity_location::where::local)
    return done(make_error(errc::unavailable, env.target_kind() + " " + env.target_id()
                                                + " is no longer owned by " + st.opts.node_id
                                                + "; retry shortly"));
  d.invoke = &kind->second;
  resolve_and_deliver(self, std::move(d), true);
}

caf::behavior peer_link(link_actor* self, peer_link_options opts) {
  self->state.opts = std::move(opts);
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& [node, p] : self->state.peers)
      if (p.gateway && p.gateway.address() == dm.source) {
        link_lost(self, node, p, "went down: " + self->system().render(dm.reason));
        self->delayed_send(self, self->state.opts.reconnect_delay, retry_atom::value, node);
        return;
      }
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [node, p] : self->state.peers) {
      fail_pending(self, node, "is out of reach: this node is stopping");
      self->send_exit(p.connector, msg.reason);
    }
    self->quit(msg.reason);
  });
  return {
    // From peers.
    [self](const pb::Envelope& env) {
      switch (env.kind()) {
        case pb::Envelope::REQUEST:
        case pb::Envelope::CAST:
          serve(self, env);
          break;
        case pb::Envelope::REPLY:
        case pb::Envelope::FAILURE:
          settle(self, env);
          break;
        default:
          spdlog::warn("cluster: an envelope of unknown kind {} from {}", env.kind(),
                       env.from_node());
      }
    },
    // From this node.
    [self](forward_atom, const std::string& node, std::string& kind, std::string& id,
           int64_t deadline_ms, std::string& payload) {
      return forward(self, node, std::move(kind), std::move(id), deadline_ms, std::move(payload));
    },
    [self](forward_atom, const std::string& node, std::string& kind, std::string& id,
           std::string& payload) {
      forward_one_way(self, node, std::move(kind), std::move(id), std::move(payload));
    },
    [self](members_changed_atom, const std::vector<std::string>& nodes,
           const std::vector<std::string>& addresses) { set_members(self, nodes, addresses); },
    [self](count_atom) {
      uint64_t linked = 0;
      for (auto& [node, p] : self->state.peers)
        linked += p.gateway ? 1 : 0;
      return linked;
    },
    [self](timeout_atom, uint64_t correlation) {
      auto& st = self->state;
      auto it = st.pending.find(correlation);
      if (it == st.pending.end())
        return;
      instruments().forwarded_unavailable.inc();
      it->second.reply.deliver(make_error(errc::unavailable, "node " + it->second.node
                                                              + " did not answer in time"));
      st.pending.erase(it);
    },
    // From the connectors.
    [self](peer_up_atom, const std::string& node, const caf::actor& gateway) {
      auto it = self->state.peers.find(node);
      if (it == self->state.peers.end())
        return;  // left meanwhile; the connection closes when the last handle goes
      auto& p = it->second;
      p.connecting = false;
      p.gateway = caf::actor_cast<gateway_api>(gateway);
      self->monitor(p.gateway);
      instruments().linked.add(1);
      instruments().ups.inc();
      spdlog::info("cluster: peer link to {} ({}) up", node, p.address);
      for (auto& env : p.held)
        self->send(p.gateway, std::move(env));
      p.held.clear();
    },
    [self](peer_down_atom, const std::string& node, const std::string& why) {
      auto it = self->state.peers.find(node);
      if (it == self->state.peers.end())
        return;
      it->second.connecting = false;
      spdlog::debug("cluster: no peer link to {} yet: {}", node, why);
      self->delayed_send(self, self->state.opts.reconnect_delay, retry_atom::value, node);
    },
    [self](retry_atom, const std::string& node) {
      auto it = self->state.peers.find(node);
      if (it != self->state.peers.end())
        connect(self, node, it->second);
    },
  };
}

} // namespace

caf::actor spawn_peer_link(caf::actor_system& sys, peer_link_options opts) {
  return sys.spawn([opts = std::move(opts)](link_actor* self) mutable {
    return peer_link(self, std::move(opts));
  });
}

caf::expected<uint16_t> publish_gateway(caf::actor_system& sys, const caf::actor& link,
                                        const std::string& host, uint16_t port) {
  return sys.middleman().publish(caf::actor_cast<gateway_api>(link), port, host.c_str(), true);
}

} // namespace parley::cluster
