#include "node/node_config.hpp"

#include "net/client/url.hpp"
#include "net/http_allow.hpp"

#include <toml++/toml.h>

#include <cctype>
#include <functional>
#include <limits>
#include <sstream>
#include <string_view>

namespace parley::node {

namespace {

// One config key: its type, bounds and where it goes in node_config.
struct key_spec {
  enum class type { integer, number, boolean, string, string_list };
  std::string name;  // "section.key"
  type kind;
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();  // also the bounds of a number
  std::vector<std::string> choices;  // allowed strings; empty for any
  std::function<void(node_config&, const toml::node&)> apply;
};

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw config_error(key + ": " + what);
}

using type = key_spec::type;

template <class Field>
key_spec int_key(std::string name, int64_t min, int64_t max, Field field) {
  return {name, type::integer, min, max, {}, [name, field](node_config& c, const toml::node& n) {
            field(c, *n.value<int64_t>());
          }};
}

// A floating-point value (integers accepted) within [min, max].
template <class Field>
key_spec number_key(std::string name, int64_t min, int64_t max, Field field) {
  return {name, type::number, min, max, {}, [field](node_config& c, const toml::node& n) {
            field(c, n.is_integer() ? double(*n.value<int64_t>()) : *n.value<double>());
          }};
}

template <class Field>
key_spec bool_key(std::string name, Field field) {
  return {name, type::boolean, 0, 0, {}, [field](node_config& c, const toml::node& n) {
            field(c, *n.value<bool>());
          }};
}

template <class Field>
key_spec string_key(std::string name, std::vector<std::string> choices, Field field) {
  return {name, type::string, 0, 0, std::move(choices),
          [field](node_config& c, const toml::node& n) { field(c, *n.value<std::string>()); }};
}

// An array of strings (TOML `["a", "b"]`).
template <class Field>
key_spec string_list_key(std::string name, Field field) {
  return {name, type::string_list, 0, 0, {}, [field](node_config& c, const toml::node& n) {
            std::vector<std::string> out;
            for (auto& item : *n.as_array())
              out.push_back(*item.value<std::string>());
            field(c, out);
          }};
}

// A name that goes into etcd keys (/parley/<cluster_id>/members/<node_id>): no '/', no spaces.
void check_name(const std::string& key, const std::string& v, std::string_view punctuation) {
  if (v.empty() || v.size() > 128)
    fail(key, "must be 1..128 bytes");
  for (unsigned char c : v)
    if (!std::isalnum(c) && punctuation.find(char(c)) == std::string_view::npos)
      fail(key, "invalid character '" + std::string(1, char(c)) + "' (allowed: letters, digits, "
                  + std::string{punctuation} + ")");
}

const std::vector<key_spec>& specs() {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  constexpr int64_t gib = int64_t{1} << 30;
  static const std::vector<key_spec> all = {
    string_key("server.listen", {},
               [](node_config& c, const std::string& v) { apply_listen(v, c); }),
    int_key("server.io_threads", 1, 64,
            [](node_config& c, int64_t v) { c.edge.server.io_threads = int(v); }),
    int_key("server.drain_timeout_sec", 0, 60,
            [](node_config& c, int64_t v) { c.edge.server.drain_timeout = seconds{v}; }),
    string_key("server.web_dir", {},
               [](node_config& c, const std::string& v) { c.edge.server.web_dir = v; }),
    int_key("server.request_timeout_ms", 100, 600000,
            [](node_config& c, int64_t v) { c.edge.server.answer_timeout = milliseconds{v}; }),
    int_key("server.max_connections_per_ip", 0, 1000000,
            [](node_config& c, int64_t v) { c.edge.server.max_connections_per_ip = size_t(v); }),
    int_key("http.body_limit_bytes", 1024, gib,
            [](node_config& c, int64_t v) { c.edge.http.body_limit_bytes = size_t(v); }),
    int_key("http.request_timeout_sec", 1, 3600,
            [](node_config& c, int64_t v) { c.edge.http.request_timeout = seconds{v}; }),
    int_key("http.keep_alive_timeout_sec", 1, 3600,
            [](node_config& c, int64_t v) { c.edge.http.keep_alive_timeout = seconds{v}; }),
    int_key("ws.max_frame_bytes", 256, 64 << 20,
            [](node_config& c, int64_t v) { c.edge.ws.max_frame_bytes = size_t(v); }),
    int_key("ws.max_outbound_bytes", 1024, gib,
            [](node_config& c, int64_t v) { c.edge.ws.max_outbound_bytes = size_t(v); }),
    int_key("ws.heartbeat_interval_ms", 100, 3600 * 1000,
            [](node_config& c, int64_t v) { c.edge.ws.heartbeat_interval = milliseconds{v}; }),
    int_key("ws.idle_timeout_sec", 1, 86400,
            [](node_config& c, int64_t v) { c.edge.ws.idle_timeout = seconds{v}; }),
    bool_key("ws.permessage_deflate",
             [](node_config& c, bool v) { c.edge.ws.permessage_deflate = v; }),
    int_key("ws.deflate_window_bits", 9, 15,
            [](node_config& c, int64_t v) { c.edge.ws.deflate_window_bits = int(v); }),
    int_key("ws.deflate_mem_level", 1, 9,
            [](node_config& c, int64_t v) { c.edge.ws.deflate_mem_level = int(v); }),
    string_key("auth.jwt_secret", {},
               [](node_config& c, const std::string& v) { c.edge.auth.jwt_secret = v; }),
    bool_key("auth.dev_tokens", [](node_config& c, bool v) { c.edge.auth.dev_tokens = v; }),
    int_key("auth.dev_token_ttl_sec", 60, 365 * 86400,
            [](node_config& c, int64_t v) { c.edge.auth.dev_token_ttl = seconds{v}; }),
    int_key("auth.clock_skew_sec", 0, 3600,
            [](node_config& c, int64_t v) { c.edge.auth.clock_skew = seconds{v}; }),
    string_key("storage.data_dir", {},
               [](node_config& c, const std::string& v) {
                 if (v.empty())
                   fail("storage.data_dir", "must not be empty");
                 c.storage.data_dir = v;
               }),
    string_key("storage.sync", {"batch", "always", "none"},
               [](node_config& c, const std::string& v) {
                 storage::parse_sync_mode(v, c.storage.sync);
               }),
    int_key("storage.block_cache_mb", 1, 1 << 20,
            [](node_config& c, int64_t v) { c.storage.block_cache_mb = size_t(v); }),
    int_key("storage.write_buffer_mb", 1, 4096,
            [](node_config& c, int64_t v) { c.storage.write_buffer_mb = size_t(v); }),
    int_key("storage.bloom_bits_per_key", 1, 64,
            [](node_config& c, int64_t v) { c.storage.bloom_bits_per_key = int(v); }),
    int_key("storage.max_group_commit", 1, 1 << 20,
            [](node_config& c, int64_t v) { c.storage.max_group_commit = size_t(v); }),
    int_key("runtime.scheduler_threads", 0, 256,
            [](node_config& c, int64_t v) { c.runtime.scheduler_threads = int(v); }),
    string_key("runtime.scheduler_policy", {"sharing", "stealing"},
               [](node_config& c, const std::string& v) { c.runtime.scheduler_policy = v; }),
    int_key("runtime.idle_passivate_sec", 1, 7 * 86400,
            [](node_config& c, int64_t v) { c.runtime.idle_passivate = seconds{v}; }),
    int_key("chat.max_group_members", 2, 100000,
            [](node_config& c, int64_t v) { c.chat.max_group_members = size_t(v); }),
    int_key("chat.max_body_bytes", 1, 1 << 20,
            [](node_config& c, int64_t v) { c.chat.max_body_bytes = size_t(v); }),
    int_key("chat.max_title_bytes", 1, 4096,
            [](node_config& c, int64_t v) { c.chat.max_title_bytes = size_t(v); }),
    int_key("chat.max_groups_created_per_hour", 1, 1'000'000'000,
            [](node_config& c, int64_t v) { c.chat.max_groups_created_per_hour = v; }),
    int_key("chat.max_groups_per_user", 1, 1'000'000'000,
            [](node_config& c, int64_t v) { c.chat.max_groups_per_user = size_t(v); }),
    string_key("presence.visibility", {"contacts", "all"},
               [](node_config& c, const std::string& v) {
                 c.presence.visibility = v == "all" ? chat::presence_visibility::all
                                                    : chat::presence_visibility::contacts;
               }),
    int_key("presence.max_subscriptions", 1, 10'000'000,
            [](node_config& c, int64_t v) { c.presence.max_subscriptions = size_t(v); }),
    int_key("presence.max_subscriptions_per_user", 1, 1'000'000'000,
            [](node_config& c, int64_t v) { c.presence.max_subscriptions_per_user = size_t(v); }),
    int_key("links.cache_entries", 1, 100'000'000,
            [](node_config& c, int64_t v) { c.links.cache_entries = size_t(v); }),
    int_key("links.click_queue_capacity", 1, 100'000'000,
            [](node_config& c, int64_t v) { c.links.click_queue_capacity = size_t(v); }),
    int_key("links.stats_flush_ms", 10, 3'600'000,
            [](node_config& c, int64_t v) { c.links.stats_flush = milliseconds{v}; }),
    int_key("links.purge_interval_sec", 1, 86400,
            [](node_config& c, int64_t v) { c.links.purge_interval = seconds{v}; }),
    int_key("links.key_batch", 1, 100000,
            [](node_config& c, int64_t v) { c.links.key_batch = size_t(v); }),
    string_key("links.base_url", {},
               [](node_config& c, const std::string& v) {
                 if (!v.empty() && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
                   fail("links.base_url", "must start with http:// or https://");
                 c.links.base_url = v;
                 while (!c.links.base_url.empty() && c.links.base_url.back() == '/')
                   c.links.base_url.pop_back();
               }),
    int_key("tasks.retention_days", 1, 36500,
            [](node_config& c, int64_t v) { c.tasks.retention_days = int(v); }),
    int_key("tasks.max_payload_bytes", 1, 1 << 20,
            [](node_config& c, int64_t v) { c.tasks.max_payload_bytes = size_t(v); }),
    int_key("tasks.http_workers", 0, 256,
            [](node_config& c, int64_t v) { c.tasks.http_workers = int(v); }),
    int_key("tasks.push_workers", 0, 256,
            [](node_config& c, int64_t v) { c.tasks.push_workers = int(v); }),
    int_key("tasks.http_timeout_ms", 100, 300'000,
            [](node_config& c, int64_t v) { c.tasks.http_timeout_ms = v; }),
    int_key("tasks.http_max_response_bytes", 0, 1 << 20,
            [](node_config& c, int64_t v) { c.tasks.http_max_response_bytes = size_t(v); }),
    string_list_key("tasks.http_allow",
                    [](node_config& c, const std::vector<std::string>& v) {
                      std::string error;
                      if (!net::http_allow_list::parse(v, error))
                        fail("tasks.http_allow", error);
                      c.tasks.http_allow = v;
                    }),
    int_key("tasks.max_waiting_per_owner", 1, 100'000'000,
            [](node_config& c, int64_t v) { c.tasks.max_waiting_per_owner = v; }),
    int_key("tasks.max_memory_payload_bytes", 0, 64 * gib,
            [](node_config& c, int64_t v) { c.tasks.max_memory_payload_bytes = v; }),
    string_key("tasks.push_url", {},
               [](node_config& c, const std::string& v) {
                 if (!v.empty() && v.rfind("http://", 0) != 0)
                   fail("tasks.push_url", "must start with http:// (or be empty)");
                 c.tasks.push_url = v;
               }),
    int_key("feed.celebrity_threshold", 1, 1'000'000'000'000,
            [](node_config& c, int64_t v) { c.feed.celebrity_threshold = uint64_t(v); }),
    int_key("feed.max_items", 1, 100000,
            [](node_config& c, int64_t v) { c.feed.max_items = size_t(v); }),
    int_key("feed.active_days", 0, 3650,
            [](node_config& c, int64_t v) { c.feed.active_days = int(v); }),
    int_key("feed.posts_per_author", 1, 1000,
            [](node_config& c, int64_t v) { c.feed.posts_per_author = size_t(v); }),
    int_key("feed.fanout_workers", 1, 64,
            [](node_config& c, int64_t v) { c.feed.fanout_workers = int(v); }),
    int_key("feed.post_cache_entries", 1024, 100'000'000,
            [](node_config& c, int64_t v) { c.feed.post_cache_entries = size_t(v); }),
    number_key("feed.ranking_half_life_hours", 0, 8760,
               [](node_config& c, double v) { c.feed.ranking.half_life_hours = v; }),
    number_key("feed.ranking_affinity_weight", 0, 1000,
               [](node_config& c, double v) { c.feed.ranking.affinity = v; }),
    number_key("feed.ranking_engagement_weight", 0, 1000,
               [](node_config& c, double v) { c.feed.ranking.engagement = v; }),
    number_key("feed.ranking_diversity_penalty", 0, 1,
               [](node_config& c, double v) { c.feed.ranking.diversity_penalty = v; }),
    string_key("ratelimit.rules_file", {},
               [](node_config& c, const std::string& v) { c.ratelimit.rules_file = v; }),
    int_key("ratelimit.max_keys_per_rule", 1024, 1'000'000'000,
            [](node_config& c, int64_t v) { c.ratelimit.max_keys_per_rule = size_t(v); }),
    string_key("log.level", {"trace", "debug", "info", "warn", "error", "off"},
               [](node_config& c, const std::string& v) { c.log.level = v; }),
    string_key("admin.listen", {},
               [](node_config& c, const std::string& v) {
                 if (!v.empty())
                   parse_host_port("admin.listen", v);
                 c.admin.listen = v;
               }),
    bool_key("admin.allow_mutations",
             [](node_config& c, bool v) { c.admin.allow_mutations = v; }),
    int_key("admin.drain_duration_sec", 0, 86400,
            [](node_config& c, int64_t v) { c.admin.drain_duration = seconds{v}; }),
    int_key("admin.max_streams", 1, 1000,
            [](node_config& c, int64_t v) { c.admin.max_streams = size_t(v); }),
    bool_key("cluster.enabled", [](node_config& c, bool v) { c.cluster.enabled = v; }),
    string_key("cluster.cluster_id", {},
               [](node_config& c, const std::string& v) {
                 check_name("cluster.cluster_id", v, "._-");
                 c.cluster.cluster_id = v;
               }),
    string_key("cluster.node_id", {},
               [](node_config& c, const std::string& v) {
                 if (!v.empty())
                   check_name("cluster.node_id", v, "._-:[]");
                 c.cluster.node_id = v;
               }),
    string_key("cluster.advertise", {},
               [](node_config& c, const std::string& v) {
                 if (!v.empty() && parse_host_port("cluster.advertise", v).second == 0)
                   fail("cluster.advertise", "port 0 cannot be dialed");
                 c.cluster.advertise = v;
               }),
    string_key("cluster.listen", {},
               [](node_config& c, const std::string& v) {
                 parse_host_port("cluster.listen", v);
                 c.cluster.listen = v;
               }),
    string_list_key("cluster.etcd_endpoints",
                    [](node_config& c, const std::vector<std::string>& v) {
                      for (auto& url : v) {
                        net::client::http_url parsed;
                        std::string error;
                        if (!net::client::parse_http_url(url, parsed, error))
                          fail("cluster.etcd_endpoints", "entry \"" + url + "\": " + error);
                      }
                      c.cluster.etcd_endpoints = v;
                    }),
    int_key("cluster.lease_ttl_ms", 1000, 600'000,
            [](node_config& c, int64_t v) { c.cluster.lease_ttl = milliseconds{v}; }),
    int_key("cluster.partitions", 1, 65536,
            [](node_config& c, int64_t v) { c.cluster.partitions = uint32_t(v); }),
    int_key("cluster.bootstrap_members", 1, 1000,
            [](node_config& c, int64_t v) { c.cluster.bootstrap_members = uint32_t(v); }),
    int_key("cluster.replication_factor", 1, 2,
            [](node_config& c, int64_t v) { c.cluster.replication_factor = uint32_t(v); }),
    int_key("cluster.replication_log_bytes", 0, 1024 * gib,
            [](node_config& c, int64_t v) { c.cluster.replication_log_bytes = uint64_t(v); }),
    int_key("cluster.replication_catch_up_bytes_per_sec", 0, 64 * gib,
            [](node_config& c, int64_t v) {
              c.cluster.replication_catch_up_bytes_per_sec = uint64_t(v);
            }),
    int_key("cluster.heartbeat_ms", 10, 60'000,
            [](node_config& c, int64_t v) { c.cluster.heartbeat = milliseconds{v}; }),
    int_key("cluster.connection_timeout_ms", 100, 600'000,
            [](node_config& c, int64_t v) { c.cluster.connection_timeout = milliseconds{v}; }),
    int_key("cluster.request_timeout_ms", 100, 600'000,
            [](node_config& c, int64_t v) { c.cluster.request_timeout = milliseconds{v}; }),
  };
  return all;
}

const key_spec* find_spec(const std::string& name) {
  for (auto& s : specs())
    if (s.name == name)
      return &s;
  return nullptr;
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

void apply_value(const key_spec& spec, const toml::node& value, node_config& cfg) {
  switch (spec.kind) {
    case type::integer: {
      if (!value.is_integer())
        fail(spec.name, "expected an integer");
      auto v = *value.value<int64_t>();
      if (v < spec.min || v > spec.max)
        fail(spec.name, "out of range: " + std::to_string(v) + " (allowed "
                          + std::to_string(spec.min) + ".." + std::to_string(spec.max) + ")");
      break;
    }
    case type::number: {
      if (!value.is_integer() && !value.is_floating_point())
        fail(spec.name, "expected a number");
      auto v = value.is_integer() ? double(*value.value<int64_t>()) : *value.value<double>();
      if (!(v >= double(spec.min) && v <= double(spec.max)))
        fail(spec.name, "out of range: " + std::to_string(v) + " (allowed "
                          + std::to_string(spec.min) + ".." + std::to_string(spec.max) + ")");
      break;
    }
    case type::boolean:
      if (!value.is_boolean())
        fail(spec.name, "expected true or false");
      break;
    case type::string_list: {
      auto* items = value.as_array();
      if (!items)
        fail(spec.name, "expected an array of strings");
      for (auto& item : *items)
        if (!item.is_string())
          fail(spec.name, "expected an array of strings");
      break;
    }
    case type::string: {
      if (!value.is_string())
        fail(spec.name, "expected a string");
      auto v = *value.value<std::string>();
      if (!spec.choices.empty()
          && std::find(spec.choices.begin(), spec.choices.end(), v) == spec.choices.end())
        fail(spec.name, "invalid value \"" + v + "\" (allowed: " + join(spec.choices) + ")");
      break;
    }
  }
  spec.apply(cfg, value);
}

} // namespace

void load_config_file(const std::string& path, node_config& cfg) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin.line << ":" << e.source().begin.column;
    throw config_error(path + ":" + where.str() + ": " + std::string{e.description()});
  }
  for (auto& [section, content] : root) {
    std::string sec{section.str()};
    auto* table = content.as_table();
    if (!table)
      fail(sec, "unknown key (expected a [section])");
    for (auto& [key, value] : *table) {
      auto name = sec + "." + std::string{key.str()};
      auto* spec = find_spec(name);
      if (!spec)
        fail(name, "unknown key");
      apply_value(*spec, value, cfg);
    }
  }
}

void apply_override(const std::string& assignment, node_config& cfg) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw config_error("--set " + assignment + ": expected section.key=value");
  auto name = assignment.substr(0, eq);
  auto raw = assignment.substr(eq + 1);
  auto* spec = find_spec(name);
  if (!spec)
    fail(name, "unknown key");
  // Parse the value as TOML; strings may be given bare (--set log.level=debug).
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + raw);
  } catch (const toml::parse_error&) {
    if (spec->kind == type::integer)
      fail(name, "expected an integer");
    if (spec->kind == type::number)
      fail(name, "expected a number");
    if (spec->kind != type::string)
      fail(name, "cannot parse value \"" + raw + "\"");
  }
  if (auto* v = parsed.get("v"); v && !(spec->kind == type::string && !v->is_string())) {
    apply_value(*spec, *v, cfg);
    return;
  }
  apply_value(*spec, toml::value<std::string>{raw}, cfg);
}

void apply_environment(const char* const* environ, node_config& cfg) {
  constexpr std::string_view prefix = "PARLEY_";
  for (auto* entry = environ; entry && *entry; ++entry) {
    std::string_view text{*entry};
    auto eq = text.find('=');
    if (eq == std::string_view::npos || text.substr(0, prefix.size()) != prefix)
      continue;
    auto name = text.substr(0, eq);
    auto rest = name.substr(prefix.size());
    auto split = rest.find("__");
    if (split == std::string_view::npos)
      continue;
    std::string key;
    for (char c : std::string{rest.substr(0, split)} + "." + std::string{rest.substr(split + 2)})
      key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    try {
      apply_override(key + "=" + std::string{text.substr(eq + 1)}, cfg);
    } catch (const config_error& e) {
      throw config_error(std::string{name} + ": " + e.what());
    }
  }
}

std::pair<std::string, uint16_t> parse_host_port(const std::string& key,
                                                 const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0)
    fail(key, "expected HOST:PORT, got \"" + host_port + "\"");
  auto host = host_port.substr(0, colon);
  auto port_text = host_port.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5
      || port_text.find_first_not_of("0123456789") != std::string::npos
      || std::stoi(port_text) > 65535)
    fail(key, "invalid port \"" + port_text + "\"");
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {host, static_cast<uint16_t>(std::stoi(port_text))};
}

void apply_listen(const std::string& host_port, node_config& cfg) {
  auto [host, port] = parse_host_port("server.listen", host_port);
  cfg.edge.server.host = host;
  cfg.edge.server.port = port;
}

namespace {

bool wildcard(const std::string& host) {
  return host == "0.0.0.0" || host == "::";
}

// Relations of [cluster] keys; only an enabled cluster needs an address peers can dial.
void validate_cluster(const node_config& cfg) {
  auto& cl = cfg.cluster;
  // A link is declared dead only after several heartbeats were missed.
  if (cl.connection_timeout <= cl.heartbeat)
    fail("cluster.connection_timeout_ms", "must be above cluster.heartbeat_ms ("
                                            + std::to_string(cl.heartbeat.count()) + " ms)");
  if (!cl.enabled)
    return;
  if (cl.etcd_endpoints.empty())
    fail("cluster.etcd_endpoints", "must name at least one etcd when cluster.enabled is true");
  auto [host, port] = parse_host_port("cluster.listen", cl.listen);
  if (cl.advertise.empty() && (wildcard(host) || port == 0))
    fail("cluster.advertise", "must be set when cluster.listen (" + cl.listen
                                + ") has a wildcard host or port 0: peers cannot dial it");
  // The peer link cannot share a port with the public or the admin listener.
  auto clashes = [&, host = host, port = port](const std::string& other_host, uint16_t other_port) {
    return port != 0 && port == other_port
           && (host == other_host || wildcard(host) || wildcard(other_host));
  };
  if (clashes(cfg.edge.server.host, cfg.edge.server.port))
    fail("cluster.listen", "must differ from server.listen");
  if (!cfg.admin.listen.empty()) {
    auto [admin_host, admin_port] = parse_host_port("admin.listen", cfg.admin.listen);
    if (clashes(admin_host, admin_port))
      fail("cluster.listen", "must differ from admin.listen");
  }
}

} // namespace

void validate(const node_config& cfg) {
  if (cfg.feed.ranking.half_life_hours <= 0)
    fail("feed.ranking_half_life_hours", "must be above 0");
  if (cfg.edge.auth.jwt_secret.size() < 16)
    fail("auth.jwt_secret", "must be set to at least 16 bytes");
  // A per-user cap below the per-connection one would make the latter meaningless.
  if (cfg.presence.max_subscriptions_per_user < cfg.presence.max_subscriptions)
    fail("presence.max_subscriptions_per_user",
         "must be at least presence.max_subscriptions ("
           + std::to_string(cfg.presence.max_subscriptions) + ")");
  // Clients heartbeat at the announced interval: the idle timeout must leave room for it.
  if (cfg.edge.ws.heartbeat_interval >= cfg.edge.ws.idle_timeout)
    fail("ws.heartbeat_interval_ms", "must be below ws.idle_timeout_sec ("
                                       + std::to_string(cfg.edge.ws.idle_timeout.count())
                                       + " s)");
  validate_cluster(cfg);
}

std::string cluster_advertise(const cluster_options& cluster) {
  return cluster.advertise.empty() ? cluster.listen : cluster.advertise;
}

std::string cluster_node_id(const cluster_options& cluster) {
  return cluster.node_id.empty() ? cluster_advertise(cluster) : cluster.node_id;
}

std::vector<std::string> config_keys() {
  std::vector<std::string> out;
  for (auto& s : specs())
    out.push_back(s.name);
  return out;
}

} // namespace parley::node
