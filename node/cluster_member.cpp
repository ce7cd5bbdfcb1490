#include "node/cluster_member.hpp"

#include "actors/chat/chat_api.hpp"
#include "actors/chat/chat_context.hpp"
#include "actors/feed/feed_api.hpp"
#include "actors/feed/feed_context.hpp"
#include "actors/limits/limit_service.hpp"
#include "actors/links/links_api.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/tasks/tasks_api.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "cluster/etcd_client.hpp"
#include "cluster/link/forwarder.hpp"
#include "cluster/link/invoker.hpp"
#include "cluster/link/link_types.hpp"
#include "cluster/link/port_probe.hpp"
#include "cluster/membership.hpp"
#include "cluster/partition_map_store.hpp"
#include "cluster/placement/partition_placement.hpp"
#include "common/rendezvous.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace parley::node {

namespace {

// Every entity kind with the interface its forwarders and invokers speak.
template <class F>
void for_each_entity_kind(F f) {
  f(chat::conversation_kind, static_cast<chat::conversation_api*>(nullptr));
  f(tasks::shard_kind, static_cast<tasks::task_shard_api*>(nullptr));
  f(feed::feed_kind, static_cast<feed::feed_api*>(nullptr));
  f(feed::post_shard_kind, static_cast<feed::post_shard_api*>(nullptr));
}

// Every keyed node service with the interface its forwarders and invokers speak.
template <class F>
void for_each_service(F f) {
  f(feed::graph_service, static_cast<feed::graph_api*>(nullptr));
  f(feed::fanout_service, static_cast<feed::fanout_api*>(nullptr));
  f(links::link_service_name, static_cast<links::link_service_api*>(nullptr));
  f(tasks::lease_broker_service, static_cast<tasks::lease_broker_api*>(nullptr));
  f(limits::limit_service_name, static_cast<limits::limit_service_api*>(nullptr));
}

// The node service name of the admin actor (its peers ask it for their parts of cluster-scope
// commands).
constexpr const char* admin_service_name = "admin";

// The partition map is read again at least this often (another node may have assigned
// partitions), and at once when the member list changes.
constexpr auto map_refresh = std::chrono::seconds{1};

} // namespace

struct cluster_member::impl {
  cluster_options opts;
  std::string node_id;
  readiness_handler on_readiness;
  std::shared_ptr<cluster::partition_placement> placement;
  // Filled by start(): forwarders spawned by the registry reach the link through it.
  std::shared_ptr<caf::actor> link = std::make_shared<caf::actor>();
  caf::actor registry;
  std::vector<caf::actor> member_listeners;
  // peer_admins(): one forwarder per other member, to its admin actor.
  std::mutex admins_mutex;
  std::map<std::string, admin::admin_api> admins;
  uint64_t incarnation = 0;
  caf::actor_system* sys = nullptr;
  cluster::etcd_counters etcd_counters;
  std::unique_ptr<cluster::membership> membership;

  // The placement keeper: its own thread, since reading and writing the map is blocking etcd
  // I/O and the membership's watch thread must only hand its news over.
  std::thread keeper;
  std::mutex mutex;
  std::condition_variable wake;
  bool woken = false;
  bool stopping = false;
  bool left = false;

  // The keeper's view, for logs: what it applied last.
  std::vector<std::string> applied_members;
  std::vector<cluster::partition_owners> applied_owners;

  // Replication: the roles as etcd says, who hears of their changes, and the backups the
  // replicating writer reported caught up (partition, backup), for the keeper to record.
  std::shared_ptr<cluster::replication_map> replication;
  std::vector<cluster::partition_role> applied_roles;
  std::vector<caf::actor> map_listeners;
  std::vector<std::pair<uint32_t, std::string>> caught_up;  // guarded by `mutex`

  metrics::gauge& members_gauge = metrics::global().get_gauge(
    "cluster_members", "Live members of the cluster as this node sees them");
  metrics::gauge& primaries_gauge = metrics::global().get_gauge(
    "cluster_partitions_owned", "Partitions whose primary is this node");
  metrics::gauge& unavailable_gauge = metrics::global().get_gauge(
    "cluster_partitions_unavailable", "Partitions with no live primary (not served)");
  metrics::gauge& backed_up_gauge = metrics::global().get_gauge(
    "cluster_partitions_backed_up",
    "Partitions whose primary is this node and whose backup caught up (replication factor 2)");

  cluster::etcd_options etcd_options() {
    cluster::etcd_options e;
    e.endpoints = opts.etcd_endpoints;
    e.counters = &etcd_counters;
    return e;
  }

  void poke() {
    {
      std::lock_guard<std::mutex> guard{mutex};
      woken = true;
    }
    wake.notify_one();
  }

  uint64_t peers_linked() {
    if (!sys || !*link)
      return 0;
    caf::scoped_actor self{*sys};
    uint64_t n = 0;
    self->request(*link, std::chrono::seconds{1}, count_atom_v)
      .receive([&](uint64_t linked) { n = linked; }, [](caf::error&) {});
    return n;
  }

  void keep_placement();
  void fail_over(cluster::partition_map_store& store, const std::vector<std::string>& live,
                 std::vector<cluster::partition_assignment>& map);
  bool apply_map(cluster::partition_map_store& store, std::vector<std::string>& live,
                 std::vector<std::string>& addresses);
};

cluster_member::cluster_member(cluster_options opts, std::string node_id,
                               readiness_handler on_readiness)
  : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
  impl_->node_id = std::move(node_id);
  impl_->on_readiness = std::move(on_readiness);
  impl_->placement = std::make_shared<cluster::partition_placement>(impl_->node_id,
                                                                    impl_->opts.partitions);
  impl_->replication = std::make_shared<cluster::replication_map>(impl_->node_id,
                                                                  impl_->opts.partitions);
  auto& reg = metrics::global();
  auto* counters = &impl_->etcd_counters;
  reg.add_callback_gauge("cluster_etcd_round_trips", "HTTP requests this node sent to etcd",
                         [counters] { return static_cast<double>(counters->round_trips.load()); });
  reg.add_callback_gauge("cluster_etcd_failures", "etcd requests that brought no usable answer",
                         [counters] { return static_cast<double>(counters->failures.load()); });
}

cluster_member::~cluster_member() {
  leave();
}

void cluster_member::configure(caf::actor_system_config& caf_cfg, const cluster_options& opts) {
  caf_cfg.load<caf::io::middleman>();
  // Off by default in CAF 0.17: without them a silent peer is never noticed (CLUSTER.md).
  caf_cfg.set("middleman.heartbeat-interval", caf::timespan{opts.heartbeat});
  caf_cfg.set("middleman.connection-timeout", caf::timespan{opts.connection_timeout});
}

std::shared_ptr<const runtime::placement_policy> cluster_member::placement() const {
  return impl_->placement;
}

std::map<std::string, runtime::remote_factory> cluster_member::forwarders() const {
  std::map<std::string, runtime::remote_factory> out;
  auto link = impl_->link;
  auto deadline = impl_->opts.request_timeout;
  for_each_entity_kind([&](const char* kind, auto* api) {
    using api_t = std::remove_pointer_t<decltype(api)>;
    out[kind] = [link, deadline, kind = std::string{kind}](
                  caf::actor_system& sys, const std::string& node, const std::string& id) {
      return cluster::spawn_forwarder<api_t>(sys, {*link, node, kind, id, deadline});
    };
  });
  return out;
}

runtime::service_router::remote_factory cluster_member::service_forwarders() const {
  std::map<std::string, std::function<caf::actor(caf::actor_system&, const std::string&)>> by_name;
  auto link = impl_->link;
  auto deadline = impl_->opts.request_timeout;
  for_each_service([&](const char* name, auto* api) {
    using api_t = std::remove_pointer_t<decltype(api)>;
    by_name[name] = [link, deadline, name = std::string{name}](caf::actor_system& sys,
                                                               const std::string& node) {
      // A node service is addressed by its name and an empty id (peer_link.hpp).
      return cluster::spawn_forwarder<api_t>(sys, {*link, node, name, {}, deadline});
    };
  });
  return [by_name = std::move(by_name)](caf::actor_system& sys, const std::string& service,
                                        const std::string& node) -> caf::actor {
    auto it = by_name.find(service);
    return it == by_name.end() ? caf::actor{} : it->second(sys, node);
  };
}

std::map<std::string, std::pair<caf::actor, cluster::invoker>>
cluster_member::node_services(const runtime::service_router& router, const admin::admin_api& admin) {
  std::map<std::string, std::pair<caf::actor, cluster::invoker>> out;
  if (admin)
    out[admin_service_name] = {caf::actor_cast<caf::actor>(admin),
                               cluster::invoker_for<admin::admin_api>()};
  for_each_service([&](const char* name, auto* api) {
    using api_t = std::remove_pointer_t<decltype(api)>;
    if (auto local = router.local(name))
      out[name] = {local, cluster::invoker_for<api_t>()};
  });
  return out;
}

std::map<std::string, admin::admin_api> cluster_member::peer_admins() {
  auto& im = *impl_;
  if (!im.sys || !im.membership || !*im.link)
    return {};
  std::set<std::string> live;
  for (auto& m : im.membership->members().members)
    if (m.node_id != im.node_id)
      live.insert(m.node_id);
  std::lock_guard<std::mutex> guard{im.admins_mutex};
  for (auto it = im.admins.begin(); it != im.admins.end();) {
    if (live.count(it->first) != 0) {
      ++it;
      continue;
    }
    caf::anon_send(caf::actor_cast<caf::actor>(it->second), passivate_atom_v);
    it = im.admins.erase(it);
  }
  for (auto& node : live)
    if (im.admins.count(node) == 0)
      im.admins[node] = caf::actor_cast<admin::admin_api>(cluster::spawn_forwarder<admin::admin_api>(
        *im.sys, {*im.link, node, admin_service_name, {}, im.opts.request_timeout}));
  return im.admins;
}

caf::actor cluster_member::link() const {
  return *impl_->link;
}

std::shared_ptr<const cluster::replication_map> cluster_member::replication() const {
  return impl_->replication;
}

void cluster_member::add_map_listener(caf::actor listener) {
  impl_->map_listeners.push_back(std::move(listener));
}

void cluster_member::report_caught_up(uint32_t partition, const std::string& backup) {
  {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->caught_up.emplace_back(partition, backup);
  }
  impl_->poke();
}

void cluster_member::add_member_listener(caf::actor listener) {
  impl_->member_listeners.push_back(std::move(listener));
}

uint64_t cluster_member::incarnation() const {
  return impl_->incarnation;
}

runtime::write_fence cluster_member::fence() const {
  auto* im = impl_.get();
  return [im]() -> fault {
    if (im->membership && im->membership->lease_healthy())
      return {};
    return make_fault(errc::unavailable, "this node's cluster membership lease is in doubt: "
                                         "the write is on disk but not acknowledged; retry");
  };
}

fault cluster_member::join() {
  auto& im = *impl_;
  cluster::membership_options mopts;
  mopts.etcd = im.etcd_options();
  mopts.cluster_id = im.opts.cluster_id;
  mopts.self.node_id = im.node_id;
  mopts.self.advertise = cluster_advertise(im.opts);
  im.incarnation = static_cast<uint64_t>(unix_ms());
  mopts.self.incarnation = im.incarnation;
  mopts.self.started_at_ms = unix_ms();
  mopts.lease_ttl = im.opts.lease_ttl;
  im.membership = std::make_unique<cluster::membership>(
    std::move(mopts), [&im](const cluster::member_view&) { im.poke(); },
    [&im](const cluster::lease_change& change) {
      if (change.what == cluster::lease_change::kind::lost)
        spdlog::error("cluster: membership lease {} lost: not acknowledging writes until a new "
                      "one holds the member key", change.lease);
      else
        spdlog::warn("cluster: membership regained with lease {}", change.lease);
      im.poke();
    });
  if (auto err = im.membership->join())
    return make_fault(err.code, "cluster: joining " + im.opts.cluster_id + " through etcd failed: "
                                  + err.message);
  spdlog::info("cluster: {} joined cluster {} as {}", im.node_id, im.opts.cluster_id,
               cluster_advertise(im.opts));
  return {};
}

fault cluster_member::start(caf::actor_system& sys, caf::actor registry,
                            std::map<std::string, std::pair<caf::actor, cluster::invoker>> services) {
  auto& im = *impl_;
  im.sys = &sys;
  im.registry = registry;
  cluster::peer_link_options lopts;
  lopts.node_id = im.node_id;
  lopts.targets.registry = registry;
  lopts.targets.placement = im.placement;
  lopts.targets.services = std::move(services);
  for_each_entity_kind([&](const char* kind, auto* api) {
    using api_t = std::remove_pointer_t<decltype(api)>;
    lopts.targets.entity_kinds[kind] = cluster::invoker_for<api_t>();
  });
  *im.link = cluster::spawn_peer_link(sys, std::move(lopts));
  auto [host, port] = cluster::split_host_port(im.opts.listen);
  auto published = cluster::publish_gateway(sys, *im.link, host, port);
  if (!published)
    return make_fault(errc::unavailable, "cluster: the peer link cannot listen on "
                                           + im.opts.listen + ": " + sys.render(published.error()));
  spdlog::info("cluster: peer link listening on {}:{}", host, *published);
  im.keeper = std::thread{[&im] { im.keep_placement(); }};
  return {};
}

namespace {

// The member that should back `partition` up under `primary`: the highest rendezvous score of
// the live members but the primary (placement's own order); empty when there is none.
std::string backup_for(const std::vector<std::string>& live, uint32_t partition,
                       const std::string& primary) {
  std::vector<std::string> candidates;
  for (auto& m : live)
    if (m != primary)
      candidates.push_back(m);
  std::sort(candidates.begin(), candidates.end());
  if (candidates.empty())
    return {};
  auto top = rendezvous_top_two(candidates, "partition", std::to_string(partition));
  return candidates[top.first];
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

// Replication's changes of the map (docs/replication.md), each a compare-and-set raising the
// epoch; a lost race leaves what won. This node changes only partitions it is involved in:
//   - its primary's lease is gone and it is the caught-up backup: it becomes the primary, with
//     the next live member as backup (to catch up);
//   - it is the primary and its backup's lease is gone, or it has none and another member is
//     live: the next live member becomes the backup (degraded until it catches up);
//   - it is the primary and the writer reported the backup caught up: backup_ready.
void cluster_member::impl::fail_over(cluster::partition_map_store& store,
                                     const std::vector<std::string>& live,
                                     std::vector<cluster::partition_assignment>& map) {
  std::vector<std::pair<uint32_t, std::string>> ready;
  {
    std::lock_guard<std::mutex> guard{mutex};
    ready.swap(caught_up);
  }
  // True when this node's change is what etcd holds now.
  auto change = [&](cluster::partition_assignment& a, const std::string& primary,
                    const std::string& backup, bool backup_ready, const char* why) {
    auto write = store.assign(a, primary, backup, backup_ready);
    if (!write) {
      spdlog::warn("cluster: partition {} not changed ({}): {}", a.partition, why,
                   write.error().message);
      return false;
    }
    if (write->won)
      spdlog::info("cluster: partition {} epoch {}: primary {}, backup {}{} ({})", a.partition,
                   write->current.epoch, write->current.primary,
                   write->current.backup.empty() ? "none" : write->current.backup,
                   write->current.backup_ready ? " (caught up)" : "", why);
    a = write->current;
    return write->won;
  };
  for (auto& a : map) {
    if (a.epoch == 0)
      continue;
    bool primary_live = contains(live, a.primary);
    bool backup_live = !a.backup.empty() && contains(live, a.backup);
    if (!primary_live && a.backup == node_id && a.backup_ready) {
      change(a, node_id, backup_for(live, a.partition, node_id), false, "primary lost");
    } else if (a.primary == node_id && !a.backup.empty() && !backup_live) {
      change(a, node_id, backup_for(live, a.partition, node_id), false, "backup lost");
    } else if (a.primary == node_id && a.backup.empty()) {
      if (auto next = backup_for(live, a.partition, node_id); !next.empty())
        change(a, node_id, next, false, "a backup is live again");
    }
  }
  // A report not recorded (etcd unreachable, a lost race, the backup's lease lapsing for a
  // moment) is kept for the next round while the map still names that backup: the writer
  // reports a backup once per stream, so a dropped report would leave the partition without a
  // ready backup for good (found by the checker: "not ready and backed up" after healing).
  std::vector<std::pair<uint32_t, std::string>> again;
  for (auto& [partition, backup] : ready) {
    if (partition >= map.size())
      continue;
    auto& a = map[partition];
    if (a.primary != node_id || a.backup != backup || a.backup_ready)
      continue;
    if (!contains(live, backup) || !change(a, node_id, backup, true, "backup caught up"))
      again.emplace_back(partition, backup);
  }
  if (!again.empty()) {
    std::lock_guard<std::mutex> guard{mutex};
    caught_up.insert(caught_up.end(), again.begin(), again.end());
  }
}

// Reads the partition map, assigns what has no primary yet (once enough members are here),
// and hands it to the placement. False when etcd could not be read.
bool cluster_member::impl::apply_map(cluster::partition_map_store& store,
                                     std::vector<std::string>& live,
                                     std::vector<std::string>& addresses) {
  auto view = membership->members();
  live.clear();
  addresses.clear();
  for (auto& m : view.members) {
    live.push_back(m.node_id);
    addresses.push_back(m.advertise);
  }
  auto map = store.read_all();
  if (!map) {
    spdlog::warn("cluster: the partition map cannot be read: {}", map.error().message);
    return false;
  }
  std::vector<cluster::partition_owners> owners(opts.partitions);
  std::vector<cluster::partition_assignment> previous(opts.partitions);
  for (auto& a : map->partitions) {
    if (a.partition >= opts.partitions)
      continue;
    owners[a.partition] = {a.primary, a.backup};
    previous[a.partition] = a;
  }
  auto unassigned = std::count_if(owners.begin(), owners.end(),
                                  [](auto& o) { return o.primary.empty(); });
  bool here = std::find(live.begin(), live.end(), node_id) != live.end();
  if (unassigned > 0 && here && live.size() >= opts.bootstrap_members) {
    auto desired = cluster::place_all(live, opts.partitions);
    uint32_t won = 0;
    for (uint32_t p = 0; p < opts.partitions; ++p) {
      if (!owners[p].primary.empty())
        continue;
      previous[p].partition = p;
      auto write = store.assign(previous[p], desired[p].primary, desired[p].backup);
      if (!write) {
        spdlog::warn("cluster: partition {} not assigned: {}", p, write.error().message);
        continue;
      }
      owners[p] = {write->current.primary, write->current.backup};
      previous[p] = write->current;
      won += write->won ? 1 : 0;
    }
    spdlog::info("cluster: assigned {} of {} unassigned partitions over {} members", won,
                 unassigned, live.size());
  }
  if (opts.replication_factor >= 2 && here && membership->lease_healthy()) {
    fail_over(store, live, previous);
    for (auto& a : previous)
      if (a.epoch != 0 && a.partition < opts.partitions)
        owners[a.partition] = {a.primary, a.backup};
  }
  // Replication's view first: an entity activated by the placement below writes at once, and
  // the writer must already know this node is its partition's primary.
  std::vector<cluster::partition_role> roles(opts.partitions);
  for (auto& a : previous)
    if (a.epoch != 0 && a.partition < opts.partitions)
      roles[a.partition] = {a.epoch, a.primary, a.backup, a.backup_ready};
  bool roles_changed = !std::equal(roles.begin(), roles.end(), applied_roles.begin(),
                                   applied_roles.end(), [](auto& x, auto& y) {
                                     return x.epoch == y.epoch && x.primary == y.primary
                                            && x.backup == y.backup
                                            && x.backup_ready == y.backup_ready;
                                   });
  if (roles_changed || live != applied_members) {
    backed_up_gauge.set(static_cast<double>(std::count_if(roles.begin(), roles.end(), [&](auto& r) {
      return r.primary == node_id && r.backup_ready;
    })));
    replication->update(roles, live);
    applied_roles = roles;
    for (auto& listener : map_listeners)
      caf::anon_send(listener, map_changed_atom_v);
  }
  placement->update(owners, live);
  if (live != applied_members || owners != applied_owners) {
    caf::anon_send(*link, members_changed_atom_v, live, addresses);
    for (auto& listener : member_listeners)
      caf::anon_send(listener, members_changed_atom_v, live, addresses);
    caf::anon_send(registry, rebalance_atom_v);
    std::string names;
    for (auto& m : live)
      names += (names.empty() ? "" : ", ") + m;
    spdlog::info("cluster: {} members ({}); {} partitions primary here, {} unavailable",
                 live.size(), names, placement->primaries_here(), placement->unavailable());
    applied_members = live;
    applied_owners = owners;
  }
  members_gauge.set(static_cast<double>(live.size()));
  primaries_gauge.set(placement->primaries_here());
  unavailable_gauge.set(placement->unavailable());
  return true;
}

void cluster_member::impl::keep_placement() {
  cluster::etcd_client client{etcd_options()};
  cluster::partition_map_store store{client, opts.cluster_id};
  bool was_ready = false;
  // A link to every member gates start-up only (docs/cluster.md, "Readiness"). Once ready, a
  // member that joins (links come up within a reconnect delay) or a link that drops between
  // live members must not take this node out of its load balancer: requests that need the
  // missing link answer `unavailable` on their own, and the link is dialed again.
  bool linked_once = false;
  std::vector<std::string> live;
  std::vector<std::string> addresses;
  for (;;) {
    bool read = apply_map(store, live, addresses);
    auto assigned = std::none_of(applied_owners.begin(), applied_owners.end(),
                                 [](auto& o) { return o.primary.empty(); });
    // Not ready while the lease is in doubt (the write fence is closed then, too).
    bool ready = read && membership->joined() && membership->lease_healthy() && assigned
                 && !applied_owners.empty();
    if (ready && !linked_once)
      linked_once = peers_linked() + 1 >= live.size();
    ready = ready && linked_once;
    if (ready != was_ready) {
      spdlog::info("cluster: {} is {}", node_id, ready ? "ready" : "not ready");
      was_ready = ready;
      if (on_readiness)
        on_readiness(ready);
    }
    std::unique_lock<std::mutex> lock{mutex};
    // Not ready yet: look again soon (links come up within a reconnect delay).
    wake.wait_for(lock, ready ? std::chrono::milliseconds{map_refresh} : std::chrono::milliseconds{200},
                  [this] { return woken || stopping; });
    if (stopping)
      return;
    woken = false;
  }
}

void cluster_member::leave() {
  auto& im = *impl_;
  {
    std::lock_guard<std::mutex> guard{im.mutex};
    if (im.left)
      return;
    im.left = true;
    im.stopping = true;
  }
  im.wake.notify_one();
  if (im.keeper.joinable())
    im.keeper.join();
  ready_ = false;
  if (im.membership) {
    if (auto err = im.membership->leave())
      spdlog::warn("cluster: leaving: {} (peers notice when the lease expires)", err.message);
    else
      spdlog::info("cluster: {} left cluster {}", im.node_id, im.opts.cluster_id);
  }
  {
    // The actor system waits for every actor at shutdown, these forwarders included.
    std::lock_guard<std::mutex> guard{im.admins_mutex};
    for (auto& [node, forwarder] : im.admins)
      caf::anon_send_exit(forwarder, caf::exit_reason::user_shutdown);
    im.admins.clear();
  }
  if (*im.link)
    caf::anon_send_exit(*im.link, caf::exit_reason::user_shutdown);
  *im.link = nullptr;
  im.registry = nullptr;
  im.member_listeners.clear();
  im.map_listeners.clear();
}

const std::string& cluster_member::node_id() const {
  return impl_->node_id;
}

cluster_member::status cluster_member::snapshot() const {
  auto& im = *impl_;
  status s;
  if (im.membership)
    for (auto& m : im.membership->members().members)
      s.members.push_back({m.node_id, m.advertise, m.started_at_ms});
  s.partitions = im.placement->partitions();
  s.primaries_here = im.placement->primaries_here();
  s.unavailable = im.placement->unavailable();
  s.peers_linked = im.peers_linked();
  s.lease_healthy = im.membership && im.membership->lease_healthy();
  return s;
}

} // namespace parley::node
