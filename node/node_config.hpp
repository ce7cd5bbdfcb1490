// The whole configuration of a node, loaded from TOML (configs/node.toml documents every key
// with its default) and overridden by command-line flags. Every key is validated: an unknown
// key, a wrong type or an out-of-range value is a config_error naming the key.
#pragma once

#include "actors/chat/chat_context.hpp"
#include "actors/feed/feed_context.hpp"
#include "actors/links/links_context.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "net/edge_options.hpp"
#include "storage/storage_options.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace parley::node {

struct runtime_options {
  // CAF scheduler threads; 0 means one per core. Default: 0
  int scheduler_threads = 0;
  // CAF scheduling policy: "sharing" (one shared queue) or "stealing". Default: sharing
  // (../shared/TOOLCHAIN.md: stealing degrades when one actor wakes thousands of idle actors)
  std::string scheduler_policy = "sharing";
  // Passivate idle virtual actors after this long, in seconds. Default: 300
  std::chrono::seconds idle_passivate{300};
};

struct ratelimit_options {
  // TOML file of rate-limit rules, reloaded on SIGHUP and rewritten by PUT
  // /api/v1/admin/ratelimits; empty: no rules. Default: ""
  std::string rules_file;
  // Keys remembered per rule; new keys past this are decided by the rule's on_error.
  // Default: 1000000
  size_t max_keys_per_rule = 1'000'000;
};

struct log_options {
  // trace, debug, info, warn, error or off; reloaded on SIGHUP. Default: info
  std::string level = "info";
};

struct admin_config {
  // HOST:PORT of the admin API and operator page, a listener of their own (loopback in the
  // production template); empty: on the public listener (server.listen). Default: ""
  std::string listen;
  // Allow mutating admin commands (kick, ban, drain, requeue, rules, log level, reload).
  // Default: true (the production template sets false)
  bool allow_mutations = true;
  // How long `node drain` spreads the closing of WebSockets when it names no duration.
  // Default: 30 s
  std::chrono::seconds drain_duration{30};
  // Live sample streams of the operator page (GET /admin/v1/samples) open at once on this
  // node; one more is refused with 503. Default: 8
  size_t max_streams = 8;
};

// [cluster]: running as one member of a cluster (../shared/CLUSTER.md). Off by default: a
// single node reads none of the rest.
struct cluster_options {
  // Join a cluster (etcd, peer link, partitions); false: a single node. Default: false
  bool enabled = false;
  // The cluster's name: its etcd keys live under /parley/<cluster_id>/. Letters, digits, '.',
  // '_' and '-'. Default: "parley"
  std::string cluster_id = "parley";
  // This node's id, unique in the cluster and stable across restarts (partition ownership and
  // routing entries name it); empty: the advertise address ("127.0.0.2:9080"). Default: ""
  std::string node_id;
  // HOST:PORT peers dial to reach this node's peer link; empty: cluster.listen, which must then
  // name a concrete host (not 0.0.0.0 or ::) and port (not 0). Default: ""
  std::string advertise;
  // HOST:PORT the peer link listens on (node-to-node messages; keep it on a private network).
  // Default: "127.0.0.1:9080"
  std::string listen = "127.0.0.1:9080";
  // etcd v3 client URLs (http:// only, the JSON gateway); any one of them may answer.
  // Default: ["http://127.0.0.1:2379"]
  std::vector<std::string> etcd_endpoints{"http://127.0.0.1:2379"};
  // TTL of this node's membership lease, renewed every third of it: a dead node is noticed this
  // long after it stopped renewing. Default: 3000 ms
  std::chrono::milliseconds lease_ttl{3000};
  // Partitions of the key space (hash(key) % partitions); fixed for the cluster's life: every
  // node must have the same value and it cannot change once data is written. Default: 256
  uint32_t partitions = 256;
  // Members that must have joined before the partitions are first assigned (once, for the
  // cluster's life, until replication can move them: docs/cluster.md). Start a new cluster's
  // first nodes together with this set to their number. Default: 1
  uint32_t bootstrap_members = 1;
  // Copies of each partition's durable writes: 1 (its primary only) or 2 (primary and backup: a
  // write is acknowledged once both hold it, and the backup takes over when the primary dies;
  // docs/replication.md). Every node must have the same value (switched by restarting every node).
  // Default: 1
  uint32_t replication_factor = 1;
  // Bytes of replication log each partition keeps (about; measured every 5 s): a backup that
  // fell further behind, and every new backup, gets a copy of the partition's records from a
  // snapshot instead of the log (docs/replication.md, Catch-up). 0: never trimmed.
  // Default: 64 MiB
  uint64_t replication_log_bytes = uint64_t{64} << 20;
  // Bytes per second a node reads for backups catching up (copies and old log records), so that
  // a catch-up does not starve live writes; 0: unpaced. Default: 64 MiB/s
  uint64_t replication_catch_up_bytes_per_sec = uint64_t{64} << 20;
  // Heartbeat interval on each peer link. Default: 500 ms
  std::chrono::milliseconds heartbeat{500};
  // A peer link silent this long is closed (and retried); more than heartbeat. Default: 3000 ms
  std::chrono::milliseconds connection_timeout{3000};
  // Deadline of a request forwarded to another node when the caller sets none. Default: 5000 ms
  std::chrono::milliseconds request_timeout{5000};
};

struct node_config {
  net::edge_options edge;
  storage::storage_options storage;
  runtime_options runtime;
  chat::chat_options chat;
  chat::presence_options presence;
  links::link_options links;
  tasks::task_options tasks;
  feed::feed_options feed;
  ratelimit_options ratelimit;
  log_options log;
  admin_config admin;
  cluster_options cluster;
};

class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Applies the TOML file at `path` onto `cfg`. Throws config_error.
void load_config_file(const std::string& path, node_config& cfg);

// Applies "section.key=value" (value in TOML syntax or bare for strings). Throws config_error.
void apply_override(const std::string& assignment, node_config& cfg);

// Checks "host:port" (the form of server.listen and admin.listen) and splits it; `key` names
// the key in the error. Throws config_error.
std::pair<std::string, uint16_t> parse_host_port(const std::string& key,
                                                 const std::string& host_port);

// Applies every environment variable PARLEY_<SECTION>__<KEY>=value (e.g.
// PARLEY_ADMIN__ALLOW_MUTATIONS=false) as `--set section.key=value` would, with the same
// validation; the error names the variable. Other PARLEY_ variables (no "__") are not config.
// `environ` is a null-terminated array of "NAME=value" strings. Throws config_error.
void apply_environment(const char* const* environ, node_config& cfg);

// Applies "host:port" to server.host/server.port. Throws config_error.
void apply_listen(const std::string& host_port, node_config& cfg);

// Checks relations between keys (e.g. the JWT secret is set). Throws config_error.
void validate(const node_config& cfg);

// The peer-link address this node announces: cluster.advertise, else cluster.listen.
std::string cluster_advertise(const cluster_options& cluster);

// This node's id in the cluster: cluster.node_id, else the advertise address as written
// ("127.0.0.2:9080"): unique because two nodes cannot listen on one address, and stable as long
// as the node keeps its address.
std::string cluster_node_id(const cluster_options& cluster);

// Every known key, "section.key", in file order (for docs and tests).
std::vector<std::string> config_keys();

} // namespace parley::node
