#include "node/node.hpp"

#include "actors/chat/chat_service.hpp"
#include "actors/chat/conversation_actor.hpp"
#include "actors/chat/presence_actor.hpp"
#include "actors/links/click_aggregator.hpp"
#include "actors/limits/limit_service.hpp"
#include "actors/links/link_service.hpp"
#include "actors/runtime/service_router.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/chat/chat_reader.hpp"
#include "actors/message_types.hpp"
#include "cluster/link/link_types.hpp"
#include "cluster/routes/route_replicator.hpp"
#include "actors/runtime/registry.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "actors/feed/fanout_worker.hpp"
#include "actors/feed/feed_actor.hpp"
#include "actors/feed/graph_actor.hpp"
#include "actors/feed/post_shard.hpp"
#include "actors/feed/timeline_sweeper.hpp"
#include "actors/tasks/lease_broker.hpp"
#include "actors/tasks/push_task_sink.hpp"
#include "actors/tasks/task_executors.hpp"
#include "actors/tasks/task_shard.hpp"
#include "actors/tasks/task_ticker.hpp"
#include "actors/admin/admin_actor.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "net/admin_handlers.hpp"
#include "net/deny_list.hpp"
#include "net/edge_context.hpp"
#include "net/link_handlers.hpp"
#include "net/ops_handlers.hpp"
#include "net/ratelimit_handlers.hpp"
#include "net/static_files.hpp"
#include "net/feed_handlers.hpp"
#include "net/task_handlers.hpp"
#include "net/task_poster.hpp"
#include "net/server.hpp"
#include "node/admin_commands.hpp"
#include "node/build_info.hpp"
#include "node/cluster_member.hpp"
#include "node/node_sampler.hpp"
#include "node/process_stats.hpp"
#include "storage/ban_store.hpp"
#include "storage/engine.hpp"
#include "cluster/replication/replica_service.hpp"
#include "cluster/replication/replicating_writer.hpp"
#include "node/record_partition.hpp"
#include "storage/group_commit_writer.hpp"
#include "storage/chat_store.hpp"
#include "storage/link_store.hpp"
#include "storage/meta_store.hpp"
#include "storage/feed_store.hpp"
#include "storage/task_store.hpp"

#include <caf/all.hpp>
#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace parley::node {

namespace {

// Resident set size of this process in bytes, from /proc (for /metrics and benchmarks).
double resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// Protobuf's own log lines (a refused UTF-8 string, a failed parse) go through spdlog, with its
// timestamps and level, instead of raw to stderr. They are the library's, not the node's, so
// its errors log as warnings; the invalid UTF-8 a client can send in any binary frame logs at
// debug only, so clients cannot fill the log with it.
void protobuf_log_to_spdlog(google::protobuf::LogLevel level, const char* file, int line,
                            const std::string& message) {
  if (message.find("invalid UTF-8") != std::string::npos)
    level = google::protobuf::LOGLEVEL_INFO;
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO: spdlog::debug("protobuf: {}", message); break;
    case google::protobuf::LOGLEVEL_WARNING:
    case google::protobuf::LOGLEVEL_ERROR:
      spdlog::warn("protobuf ({}:{}): {}", file, line, message);
      break;
    case google::protobuf::LOGLEVEL_FATAL:
      spdlog::critical("protobuf ({}:{}): {}", file, line, message);
      break;
  }
}

} // namespace

void apply_log_level(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
}

struct node::impl {
  std::unique_ptr<storage::engine> db;
  std::unique_ptr<storage::group_commit_writer> writer;
  std::unique_ptr<storage::chat_store> chat_store;
  chat::chat_context_ptr chat;
  std::unique_ptr<storage::link_store> link_store;
  links::links_context_ptr links;
  std::unique_ptr<storage::task_store> task_store;
  tasks::tasks_context_ptr tasks;
  tasks::task_ticker task_ticker;
  std::vector<tasks::task_executor> task_executors;
  std::unique_ptr<storage::feed_store> feed_store;
  feed::feed_context_ptr feed;
  feed::fanout_api fanout_service;  // cluster only: other nodes' fan-out reaches the workers
  caf::actor timeline_sweeper;
  std::shared_ptr<limits::rate_limiter> limiter;
  limits::limit_service_api limit_service;
  caf::actor_system_config caf_cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor registry;
  // Keyed node services: this node's, or in a cluster the owner's (service_router.hpp).
  runtime::service_router_ptr router;
  runtime::storage_writer_api storage_writer;
  std::unique_ptr<net::server> server;
  std::unique_ptr<storage::ban_store> bans;
  std::shared_ptr<net::deny_list> denied = std::make_shared<net::deny_list>();
  admin::admin_api admin;
  caf::actor sampler;
  std::shared_ptr<sample_history> history =
    std::make_shared<sample_history>(sample_history_seconds);
  std::unique_ptr<net::server> admin_server;  // admin.listen, when set
  std::unique_ptr<cluster_member> cluster;    // cluster.enabled only
  chat::chat_service_api chat_service;        // cluster.enabled only: node service "chat"
  cluster::route_replicator_api route_replicator;  // cluster.enabled only: node service "routes"
  cluster::replica_api replica;  // replication_factor 2 only: node service "replica"
  bool only_replicated = false;  // storage::meta_store::note_replication
  std::string node_id;
  int64_t started_at_ms = 0;
  bool stopped = false;
};

node::node(node_config cfg) : cfg_(std::move(cfg)), impl_(std::make_unique<impl>()) {
  hooks_.add("log.level", [](const node_config& fresh) { apply_log_level(fresh.log.level); });
  hooks_.add("ratelimit rules", [this](const node_config&) {
    // The file named at start-up (PUT rewrites that one); an invalid file keeps the old set.
    auto& im = *impl_;
    if (!im.limiter || cfg_.ratelimit.rules_file.empty())
      return;
    if (auto err = net::load_rules_file(*im.limiter, cfg_.ratelimit.rules_file))
      spdlog::error("rate-limit rules not reloaded: {}", err.message);
  });
}

node::~node() {
  shutdown();
}

// -- start-up ------------------------------------------------------------------------------------
//
// Two phases. Build: each service gets its context (options, stores, state loaded from disk); no
// actor runs, so nothing can observe a half-built service. Start: the registry, then each
// service's actors, then the edge with every service's routes. A failure in either phase returns
// before the listener opens.

namespace {

using impl_t = node::impl;

fault open_storage(impl_t& im, const node_config& cfg) {
  fault err;
  im.db = storage::engine::open(cfg.storage, err);
  if (err)
    return err;
  auto node_id = storage::meta_store{*im.db}.load_or_create_node_id();
  if (!node_id)
    return node_id.error();
  // In a cluster the id peers know it by (partition ownership and routes name it).
  im.node_id = cfg.cluster.enabled ? cluster_node_id(cfg.cluster) : std::move(*node_id);
  // Before anything is written: whether all this store holds came through replication.
  auto only_replicated = storage::meta_store{*im.db}.note_replication(
    cfg.cluster.enabled && cfg.cluster.replication_factor >= 2);
  if (!only_replicated)
    return only_replicated.error();
  im.only_replicated = *only_replicated;
  im.writer = std::make_unique<storage::group_commit_writer>(*im.db);
  return {};
}

void start_actor_system(impl_t& im, const node_config& cfg) {
  auto threads = cfg.runtime.scheduler_threads > 0
                   ? cfg.runtime.scheduler_threads
                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  im.caf_cfg.set("scheduler.max-threads", static_cast<int64_t>(threads));
  im.caf_cfg.set("scheduler.policy", caf::atom_from_string(cfg.runtime.scheduler_policy));
  add_message_types(im.caf_cfg);
  cluster::add_message_types(im.caf_cfg);
  if (im.cluster)
    cluster_member::configure(im.caf_cfg, cfg.cluster);
  im.sys = std::make_unique<caf::actor_system>(im.caf_cfg);
  im.router = im.cluster ? std::make_shared<runtime::service_router>(
                             *im.sys, im.node_id, im.cluster->placement(),
                             im.cluster->service_forwarders())
                         : std::make_shared<runtime::service_router>(*im.sys);
  if (im.cluster && cfg.cluster.replication_factor >= 2) {
    // Each partition's writes on its primary and its backup before the ack (docs/replication.md).
    cluster::replicating_writer_options wopts;
    wopts.map = im.cluster->replication();
    wopts.db = im.db.get();
    wopts.writer = im.writer.get();
    wopts.partition_of = make_record_partitioner(cfg.cluster.partitions);
    wopts.fence = im.cluster->fence();
    wopts.log_bytes = cfg.cluster.replication_log_bytes;
    wopts.catch_up_bytes_per_sec = cfg.cluster.replication_catch_up_bytes_per_sec;
    wopts.only_replicated = im.only_replicated;
    wopts.caught_up = [member = im.cluster.get()](uint32_t partition, const std::string& backup) {
      member->report_caught_up(partition, backup);
    };
    im.storage_writer = cluster::spawn_replicating_writer(*im.sys, std::move(wopts));
    im.cluster->add_map_listener(caf::actor_cast<caf::actor>(im.storage_writer));
  } else {
    im.storage_writer = runtime::spawn_storage_writer(
      *im.sys, *im.writer, im.cluster ? im.cluster->fence() : runtime::write_fence{});
  }
}

// In a cluster: the membership first (the write fence opens once it holds a lease), readiness
// from the cluster member (joined, partitions assigned, peers linked) rather than at start-up.
fault join_cluster(impl_t& im, const node_config& cfg) {
  if (!cfg.cluster.enabled)
    return {};
  im.cluster = std::make_unique<cluster_member>(cfg.cluster, im.node_id, [&im](bool ready) {
    if (im.server)
      im.server->set_ready(ready);
  });
  return {};
}

// -- phase 1: build ---------------------------------------------------------------------------------

void build_chat(impl_t& im, const node_config& cfg) {
  im.chat_store = std::make_unique<storage::chat_store>(*im.db);
  im.chat = std::make_shared<chat::chat_context>();
  im.chat->opts = cfg.chat;
  im.chat->presence_opts = cfg.presence;
  im.chat->store = im.chat_store.get();
  im.chat->storage_writer = im.storage_writer;
  chat::group_quota::options qopts;
  qopts.max_created_per_hour = cfg.chat.max_groups_created_per_hour;
  qopts.max_groups_per_user = cfg.chat.max_groups_per_user;
  im.chat->quota = std::make_unique<chat::group_quota>(
    qopts, [store = im.chat_store.get()](const std::string& user, fault& err)
             -> std::optional<size_t> {
      auto groups = store->groups_of(user);
      if (!groups) {
        err = groups.error();
        return std::nullopt;
      }
      return groups->size();
    });
}

fault build_tasks(impl_t& im, const node_config& cfg) {
  im.task_store = std::make_unique<storage::task_store>(*im.db);
  im.tasks = std::make_shared<tasks::tasks_context>();
  im.tasks->opts = cfg.tasks;
  im.tasks->opts.push_file = cfg.storage.data_dir + "/push.jsonl";
  im.tasks->store = im.task_store.get();
  im.tasks->storage_writer = im.storage_writer;
  im.tasks->router = im.router;
  // Each user's unfinished tasks, for tasks.max_waiting_per_owner (one scan of the owner index).
  auto unfinished = im.task_store->unfinished_by_owner();
  if (!unfinished)
    return unfinished.error();
  for (auto& [owner, n] : *unfinished)
    im.tasks->unfinished.add(owner, n);
  // Offline chat members' notifications become `push` tasks (retried, dead-lettered).
  im.chat->pushes = std::make_shared<tasks::push_task_sink>(*im.sys, im.tasks);
  metrics::global().add_callback_gauge(
    "task_payload_bytes_held", "Payload bytes the task shards hold in memory (bounded by "
                               "tasks.max_memory_payload_bytes)",
    [weak = std::weak_ptr<tasks::tasks_context>{im.tasks}] {
      auto ctx = weak.lock();
      return ctx ? static_cast<double>(ctx->payload_bytes_held.load()) : 0.0;
    });
  return {};
}

fault build_feed(impl_t& im, const node_config& cfg) {
  im.feed_store = std::make_unique<storage::feed_store>(*im.db);
  im.feed = std::make_shared<feed::feed_context>(cfg.feed);
  im.feed->store = im.feed_store.get();
  im.feed->storage_writer = im.storage_writer;
  im.feed->router = im.router;
  auto pulled = im.feed_store->pulled_authors();
  if (!pulled)
    return pulled.error();
  for (auto& author : *pulled)
    im.feed->pulled.add(author);
  auto feed_gauge = [&](const char* name, const char* help, auto read) {
    metrics::global().add_callback_gauge(
      name, help, [weak = std::weak_ptr<feed::feed_context>{im.feed}, read] {
        auto ctx = weak.lock();
        return ctx ? static_cast<double>(read(*ctx)) : 0.0;
      });
  };
  feed_gauge("feed_active_timelines", "Users with a materialized feed in memory",
             [](feed::feed_context& c) { return c.timelines.size(); });
  feed_gauge("feed_live_subscribers", "Users with a connection subscribed to feed items",
             [](feed::feed_context& c) { return c.live.subscribed_users(); });
  feed_gauge("feed_pulled_authors", "Authors whose posts readers merge at read time",
             [](feed::feed_context& c) { return c.pulled.size(); });
  return {};
}

fault build_rate_limits(impl_t& im, const node_config& cfg) {
  limits::limiter_options lopts;
  lopts.max_keys_per_rule = cfg.ratelimit.max_keys_per_rule;
  if (im.cluster)
    lopts.owns_key = [router = im.router](std::string_view key) {
      return router->here(limits::limit_service_name, key);
    };
  im.limiter = std::make_shared<limits::rate_limiter>(lopts);
  if (!cfg.ratelimit.rules_file.empty())
    return net::load_rules_file(*im.limiter, cfg.ratelimit.rules_file);
  return {};
}

// The deny-list of the admin console: bans on record that have not ended.
fault build_bans(impl_t& im) {
  im.bans = std::make_unique<storage::ban_store>(*im.db);
  auto bans = im.bans->load_all();
  if (!bans)
    return bans.error();
  auto now = unix_ms();
  for (auto& ban : *bans)
    if (ban.until_ms() == 0 || ban.until_ms() > now)
      im.denied->add(ban.user(), ban.until_ms());
  return {};
}

void build_links(impl_t& im, const node_config& cfg) {
  im.link_store = std::make_unique<storage::link_store>(*im.db);
  im.links = std::make_shared<links::links_context>(cfg.links);
  im.links->store = im.link_store.get();
  im.links->storage_writer = im.storage_writer;
  im.links->router = im.router;
}

// -- phase 2: start ---------------------------------------------------------------------------------

// The virtual-actor registry with every entity kind. The factories hold their contexts weakly:
// the contexts hold the registry.
void start_registry(impl_t& im, const node_config& cfg) {
  runtime::registry_options ropts;
  ropts.idle_passivate = cfg.runtime.idle_passivate;
  ropts.local_node = im.node_id;
  if (im.cluster) {
    ropts.placement = im.cluster->placement();
    ropts.remote_kinds = im.cluster->forwarders();
  }
  std::map<std::string, runtime::entity_factory> kinds;
  kinds[chat::conversation_kind] = [weak = std::weak_ptr<chat::chat_context>{im.chat}](
                                     caf::actor_system& sys, const std::string& id) {
    return caf::actor_cast<caf::actor>(chat::spawn_conversation(sys, weak.lock(), id));
  };
  kinds[tasks::shard_kind] = [weak = std::weak_ptr<tasks::tasks_context>{im.tasks}](
                               caf::actor_system& sys, const std::string& id) {
    return caf::actor_cast<caf::actor>(
      tasks::spawn_task_shard(sys, weak.lock(), static_cast<uint32_t>(std::stoul(id))));
  };
  kinds[feed::feed_kind] = [weak = std::weak_ptr<feed::feed_context>{im.feed}](
                             caf::actor_system& sys, const std::string& id) {
    return caf::actor_cast<caf::actor>(feed::spawn_feed_actor(sys, weak.lock(), id));
  };
  kinds[feed::post_shard_kind] = [weak = std::weak_ptr<feed::feed_context>{im.feed}](
                                   caf::actor_system& sys, const std::string& id) {
    return caf::actor_cast<caf::actor>(
      feed::spawn_post_shard(sys, weak.lock(), static_cast<uint32_t>(std::stoul(id))));
  };
  im.registry = runtime::spawn_registry(*im.sys, ropts, std::move(kinds));
  im.chat->registry = im.registry;
  im.tasks->registry = im.registry;
  im.feed->registry = im.registry;
}

void start_chat(impl_t& im) {
  im.chat->presence = chat::spawn_presence(*im.sys, im.chat);
  for (size_t i = 0; i < chat::chat_reader_threads; ++i)
    im.chat->readers.push_back(chat::spawn_chat_reader(*im.sys, *im.chat_store));
}

// In a cluster, chat across nodes: the view of other nodes' sessions and chat services, this
// node's chat service for peers, and the route replicator that keeps the view and hears of
// every change of the local routing table. The node services the peer link serves.
using node_services = std::map<std::string, std::pair<caf::actor, cluster::invoker>>;

node_services start_chat_cluster(impl_t& im, const node_config& cfg) {
  im.chat->cluster = std::make_shared<chat::cluster_view>(im.node_id);
  im.feed->sessions = im.chat->cluster;  // live feed items to other nodes' connections
  im.chat_service = chat::spawn_chat_service(*im.sys, im.chat);
  cluster::route_replicator_options ropts;
  ropts.node_id = im.node_id;
  ropts.incarnation = im.cluster->incarnation();
  ropts.chat = im.chat;
  ropts.request_timeout = cfg.cluster.request_timeout;
  im.route_replicator = cluster::spawn_route_replicator(*im.sys, ropts);
  im.chat->routes.listen([replicator = im.route_replicator](
                           const std::string& user, const std::string& session,
                           const std::string& device, bool added) {
    caf::anon_send(replicator, route_atom_v, user, session, device, added);
  });
  im.cluster->add_member_listener(caf::actor_cast<caf::actor>(im.route_replicator));
  node_services services;
  services[chat::chat_service_name] = {caf::actor_cast<caf::actor>(im.chat_service),
                                       cluster::invoker_for<chat::chat_service_api>()};
  services[cluster::routes_service_name] = {caf::actor_cast<caf::actor>(im.route_replicator),
                                            cluster::invoker_for<cluster::routes_service_api>()};
  return services;
}

void start_tasks(impl_t& im) {
  im.tasks->broker = tasks::spawn_lease_broker(*im.sys, im.tasks);
  im.router->add(tasks::lease_broker_service, caf::actor_cast<caf::actor>(im.tasks->broker));
  im.task_ticker = tasks::spawn_task_ticker(*im.sys, im.tasks);  // activates and recovers shards
  im.task_executors = tasks::spawn_task_executors(
    *im.sys, im.tasks, net::make_task_poster(im.tasks->opts.http_allow));
}

void start_feed(impl_t& im, const node_config& cfg) {
  im.feed->graph = feed::spawn_graph_actor(*im.sys, im.feed);
  im.router->add(feed::graph_service, caf::actor_cast<caf::actor>(im.feed->graph));
  for (int i = 0; i < cfg.feed.fanout_workers; ++i)
    im.feed->fanout.push_back(feed::spawn_fanout_worker(*im.sys, im.feed));
  if (im.cluster) {
    im.fanout_service = feed::spawn_fanout_service(*im.sys, im.feed);
    im.router->add(feed::fanout_service, caf::actor_cast<caf::actor>(im.fanout_service));
  }
  im.timeline_sweeper = feed::spawn_timeline_sweeper(*im.sys, im.feed);
}

// The edge with every service's routes, then the links actors: the link service reads the
// reserved first path segments that the routes define (aliases must avoid them).
void start_edge_and_links(impl_t& im, const node_config& cfg) {
  auto edge_opts = cfg.edge;
  edge_opts.auth.denied = im.denied;
  im.server = std::make_unique<net::server>(edge_opts, *im.sys, im.node_id);
  auto& edge = im.server->context();
  edge.chat = im.chat;
  edge.links = im.links;
  edge.tasks = im.tasks;
  edge.feed = im.feed;
  edge.limiter = im.limiter;
  edge.services = im.router;
  edge.rate_limit_rules_file = cfg.ratelimit.rules_file;
  // Not ready the moment the write fence closes (docs/cluster.md, "Failures").
  if (im.cluster)
    edge.ready_check = [fence = im.cluster->fence()] { return !fence(); };
  im.limit_service = limits::spawn_limit_service(*im.sys, im.limiter);
  im.router->add(limits::limit_service_name, caf::actor_cast<caf::actor>(im.limit_service));
  net::add_ops_routes(edge);
  net::add_static_routes(edge, cfg.edge.server.web_dir);
  net::add_ratelimit_routes(edge);
  net::add_task_routes(edge);
  net::add_feed_routes(edge);
  net::add_link_routes(edge);  // last: its aliases avoid every route's first segment
  im.links->aggregator = links::spawn_click_aggregator(*im.sys, im.links);
  im.links->service = links::spawn_link_service(*im.sys, im.links);  // tells the aggregator
  im.router->add(links::link_service_name, caf::actor_cast<caf::actor>(im.links->service));
}

// The admin actor with this node's command handlers, and its HTTP API: on the public listener,
// or on a listener of its own (admin.listen) that serves the API, the operator page and the
// health endpoints but no WebSockets.
// The actors that are not entities, by the kind the admin console and the mailbox metrics show
// them under.
named_actors singleton_actors(impl_t& im) {
  named_actors out;
  auto add = [&](const char* kind, const auto& handle) {
    out.emplace_back(kind, caf::actor_cast<caf::actor>(handle));
  };
  add("registry", im.registry);
  add("storage_writer", im.storage_writer);
  add("presence", im.chat->presence);
  for (auto& reader : im.chat->readers)
    add("chat_reader", reader);
  add("task_ticker", im.task_ticker);
  add("lease_broker", im.tasks->broker);
  add("graph", im.feed->graph);
  for (auto& worker : im.feed->fanout)
    add("fanout_worker", worker);
  add("timeline_sweeper", im.timeline_sweeper);
  add("link_service", im.links->service);
  add("click_aggregator", im.links->aggregator);
  add("limit_service", im.limit_service);
  if (im.fanout_service)
    add("fanout_service", im.fanout_service);
  // Not the task executors: each blocks on its task's command or HTTP call by design, so its
  // mailbox wait is the task's run time (parley_task_* metrics say more).
  return out;
}

// The standard process_* metrics, parley_build_info, and the sampler behind
// parley_mailbox_wait_seconds and the operator page's plots.
void start_observing(impl_t& im) {
  auto& reg = metrics::global();
  reg.add_standard_callback("process_cpu_seconds_total", "User and system CPU time, seconds",
                            [] { return read_process_stats().cpu_seconds; }, true);
  reg.add_standard_callback("process_resident_memory_bytes", "Resident memory size, bytes",
                            [] { return read_process_stats().resident_bytes; });
  reg.add_standard_callback("process_virtual_memory_bytes", "Virtual memory size, bytes",
                            [] { return read_process_stats().virtual_bytes; });
  reg.add_standard_callback("process_open_fds", "Open file descriptors",
                            [] { return read_process_stats().open_fds; });
  reg.add_standard_callback("process_max_fds", "Most open file descriptors (RLIMIT_NOFILE)",
                            [] { return read_process_stats().max_fds; });
  reg.add_standard_callback("process_start_time_seconds", "Start time, unix seconds",
                            [] { return read_process_stats().start_time_seconds; });
  reg.get_gauge("build_info", "The build: always 1, labelled with version and commit",
                std::string{"version=\""} + build_version() + "\",commit=\"" + build_commit()
                  + "\"")
    .set(1);
  im.sampler = spawn_node_sampler(*im.sys, im.registry, singleton_actors(im), im.history);
}

void start_admin(impl_t& im, const node_config& cfg, node& self) {
  auto host = std::make_shared<admin_host>();
  host->node_id = im.node_id;
  host->version = build_version();
  host->started_at_ms = im.started_at_ms;
  host->sys = im.sys.get();
  host->server = im.server.get();
  host->registry = im.registry;
  host->singletons = singleton_actors(im);
  host->chat = im.chat;
  host->limiter = im.limiter;
  host->bans = im.bans.get();
  host->denied = im.denied;
  host->history = im.history;
  host->jwt_secret = cfg.edge.auth.jwt_secret;
  host->answer_timeout = cfg.edge.server.answer_timeout;
  host->default_drain = cfg.admin.drain_duration;
  host->reload = [&self] { return self.reload_from_source(); };
  host->db = im.db.get();
  if (im.cluster) {
    host->cluster = [member = im.cluster.get()] { return member->snapshot(); };
    host->placement = im.cluster->placement();
    host->partitions = cfg.cluster.partitions;
  }
  host->log_level = [] {
    // The config's names (log.level): spdlog calls warn "warning".
    auto level = spdlog::get_level();
    if (level == spdlog::level::warn)
      return std::string{"warn"};
    auto name = spdlog::level::to_string_view(level);
    return std::string{name.data(), name.size()};
  };
  admin::admin_options aopts;
  aopts.allow_mutations = cfg.admin.allow_mutations;
  aopts.local_node = im.node_id;
  admin::peer_directory peers;
  if (im.cluster)
    peers = [member = im.cluster.get()] { return member->peer_admins(); };
  im.admin = admin::spawn_admin_actor(*im.sys, aopts, make_admin_commands(host), std::move(peers));
  net::admin_route_options ropts;
  ropts.samples = sample_events(im.history);
  ropts.max_streams = cfg.admin.max_streams;
  ropts.web_dir = cfg.edge.server.web_dir;
  if (cfg.admin.listen.empty()) {
    net::add_admin_routes(im.server->context(), im.admin, std::move(ropts));
    return;
  }
  auto admin_opts = cfg.edge;
  admin_opts.auth.denied = im.denied;
  auto [host_name, port] = parse_host_port("admin.listen", cfg.admin.listen);
  admin_opts.server.host = host_name;
  admin_opts.server.port = port;
  admin_opts.server.io_threads = 1;
  im.admin_server = std::make_unique<net::server>(admin_opts, *im.sys, im.node_id);
  auto& ctx = im.admin_server->context();
  ctx.websockets = false;
  ctx.limiter = im.limiter;
  net::add_ops_routes(ctx);
  net::add_admin_routes(ctx, im.admin, std::move(ropts));
  net::add_static_routes(ctx, cfg.edge.server.web_dir);
}

} // namespace

fault node::start() {
  google::protobuf::SetLogHandler(protobuf_log_to_spdlog);
  auto& im = *impl_;
  im.started_at_ms = unix_ms();
  if (auto err = open_storage(im, cfg_))
    return err;
  if (auto err = join_cluster(im, cfg_))
    return err;
  start_actor_system(im, cfg_);
  if (im.cluster)
    if (auto err = im.cluster->join())
      return err;
  metrics::global().add_callback_gauge("process_resident_bytes", "Resident set size",
                                       resident_bytes);

  // Phase 1: every service built, nothing running.
  build_chat(im, cfg_);
  if (auto err = build_tasks(im, cfg_))
    return err;
  if (auto err = build_feed(im, cfg_))
    return err;
  if (auto err = build_rate_limits(im, cfg_))
    return err;
  build_links(im, cfg_);
  if (auto err = build_bans(im))
    return err;

  // Phase 2: the services' actors, then the edge.
  start_registry(im, cfg_);
  start_chat(im);
  start_tasks(im);
  start_feed(im, cfg_);
  start_edge_and_links(im, cfg_);
  start_admin(im, cfg_, *this);
  start_observing(im);
  if (im.cluster) {
    auto services = cluster_member::node_services(*im.router, im.admin);
    services.merge(start_chat_cluster(im, cfg_));
    if (cfg_.cluster.replication_factor >= 2) {
      cluster::replica_options ropts;
      ropts.map = im.cluster->replication();
      ropts.db = im.db.get();
      ropts.writer = im.writer.get();
      ropts.partition_of = make_record_partitioner(cfg_.cluster.partitions);
      ropts.only_replicated = im.only_replicated;
      im.replica = cluster::spawn_replica_service(*im.sys, std::move(ropts));
      services[cluster::replica_service_name] = {caf::actor_cast<caf::actor>(im.replica),
                                                 cluster::invoker_for<cluster::replica_api>()};
    }
    if (auto err = im.cluster->start(*im.sys, im.registry, std::move(services)))
      return err;
    caf::anon_send(im.route_replicator, peer_link_atom_v, im.cluster->link());
    if (cfg_.cluster.replication_factor >= 2)
      caf::anon_send(caf::actor_cast<caf::actor>(im.storage_writer), peer_link_atom_v,
                     im.cluster->link());
  }
  if (auto err = im.server->start())
    return err;
  if (im.admin_server) {
    if (auto err = im.admin_server->start())
      return err;
    im.admin_server->set_ready(true);
    spdlog::info("admin API on {}:{}", im.admin_server->host(), im.admin_server->port());
  }
  if (im.cluster)
    im.server->set_ready(im.cluster->ready());  // and from then on as the cluster says
  else
    im.server->set_ready(true);
  if (cfg_.edge.auth.dev_tokens)
    spdlog::warn("auth.dev_tokens is on: anyone can mint a token for any user "
                 "(POST /api/v1/dev/token); never enable it in production");
  spdlog::info("node {} ready on {}:{} (data {}, sync {})", im.node_id, im.server->host(),
               im.server->port(), cfg_.storage.data_dir, storage::to_string(cfg_.storage.sync));
  return {};
}

std::vector<std::string> node::reload(const node_config& fresh) {
  auto ran = hooks_.run(fresh);
  std::string names;
  for (auto& n : ran)
    names += (names.empty() ? "" : ", ") + n;
  spdlog::info("reload: applied {}", names);
  return ran;
}

void node::set_config_source(std::function<node_config()> load) {
  std::lock_guard<std::mutex> guard{source_mtx_};
  source_ = std::move(load);
}

result<std::vector<std::string>> node::reload_from_source() {
  std::lock_guard<std::mutex> guard{source_mtx_};
  try {
    return reload(source_ ? source_() : cfg_);
  } catch (const config_error& e) {
    spdlog::error("config not reloaded: {}", e.what());
    return make_fault(errc::bad_request, std::string{"config not reloaded: "} + e.what());
  }
}

void node::shutdown() {
  auto& im = *impl_;
  if (im.stopped)
    return;
  im.stopped = true;
  if (im.chat && im.db) {
    // Users still online are going offline with the node: record their last_seen now, before
    // their connections' offline events race the shutdown of the actors that would store it.
    storage::write_set ws;
    auto now = unix_ms();
    for (auto& user : im.chat->routes.online_user_ids())
      im.chat_store->put_last_seen(ws, user, now);
    if (!ws.empty())
      if (auto err = im.db->write({&ws}, true))
        spdlog::error("shutdown: last_seen not stored: {}", err.message);
  }
  if (im.admin_server) {
    im.admin_server->set_ready(false);
    im.admin_server->stop();
  }
  if (im.cluster && im.server) {
    // Lame duck first: clients reconnect to other nodes at an even pace, then the lease goes
    // and peers take this node out of their placement at once.
    im.server->lame_duck(std::chrono::duration_cast<std::chrono::milliseconds>(
      cfg_.edge.server.drain_timeout));
    auto until = std::chrono::steady_clock::now() + cfg_.edge.server.drain_timeout;
    while (im.server->lame_duck_progress().open > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  if (im.route_replicator) {
    // Peers drop this node's routes when its lease goes; no more deltas from here.
    caf::anon_send_exit(im.route_replicator, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(im.chat_service, caf::exit_reason::user_shutdown);
  }
  if (im.cluster)
    im.cluster->leave();
  if (im.server) {
    im.server->set_ready(false);
    im.server->drain();
    im.server->stop();
    im.server->abandon_sessions();
  }
  if (im.sys && im.links) {
    // No more redirects come in: store the clicks still queued before the actors stop.
    caf::scoped_actor self{*im.sys};
    self->request(im.links->aggregator, std::chrono::seconds{5}, drain_atom_v)
      .receive([] {},
               [](caf::error& e) {
                 spdlog::warn("shutdown: queued clicks not stored: {}", to_fault(e).message);
               });
  }
  if (im.sys) {
    caf::anon_send_exit(im.registry, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(im.chat->presence, caf::exit_reason::user_shutdown);
    for (auto& reader : im.chat->readers)
      caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
    im.chat->readers.clear();  // detached: their threads end with their last handle
    if (im.links) {
      caf::anon_send_exit(im.links->service, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(im.links->aggregator, caf::exit_reason::user_shutdown);
    }
    if (im.tasks) {
      caf::anon_send_exit(im.task_ticker, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(im.tasks->broker, caf::exit_reason::user_shutdown);
      for (auto& executor : im.task_executors)
        caf::anon_send_exit(executor, caf::exit_reason::user_shutdown);
      // A detached actor's thread ends only once its last handle is gone.
      im.task_executors.clear();
    }
    if (im.feed) {
      caf::anon_send_exit(im.feed->graph, caf::exit_reason::user_shutdown);
      for (auto& worker : im.feed->fanout)
        caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(im.timeline_sweeper, caf::exit_reason::user_shutdown);
      im.timeline_sweeper = nullptr;
      caf::anon_send_exit(im.fanout_service, caf::exit_reason::user_shutdown);
      im.fanout_service = nullptr;
    }
    caf::anon_send_exit(im.storage_writer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(im.admin, caf::exit_reason::user_shutdown);
    im.admin = nullptr;
    caf::anon_send_exit(im.limit_service, caf::exit_reason::user_shutdown);
    im.limit_service = nullptr;
    if (im.router)
      im.router->stop();  // the stand-ins for other nodes' services
    caf::anon_send_exit(im.sampler, caf::exit_reason::user_shutdown);
    im.sampler = nullptr;
    im.registry = nullptr;
    im.storage_writer = nullptr;
    if (im.replica)
      caf::anon_send_exit(im.replica, caf::exit_reason::user_shutdown);
    im.replica = nullptr;
    im.route_replicator = nullptr;
    im.chat_service = nullptr;
    im.sys.reset();  // waits for every actor to finish
    im.router.reset();
    im.cluster.reset();
    im.chat.reset();
    im.links.reset();
    im.tasks.reset();
    im.task_ticker = tasks::task_ticker{};
    im.feed.reset();
  }
  im.server.reset();
  im.admin_server.reset();
  if (im.writer)
    im.writer->stop();
  if (im.db) {
    if (auto err = im.db->sync_wal())
      spdlog::error("shutdown: {}", err.message);
  }
  im.writer.reset();
  im.db.reset();
  spdlog::info("node stopped");
}

uint16_t node::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

uint16_t node::admin_port() const {
  return impl_->admin_server ? impl_->admin_server->port() : port();
}

const std::string& node::id() const {
  return impl_->node_id;
}

} // namespace parley::node
