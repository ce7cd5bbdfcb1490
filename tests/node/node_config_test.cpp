#include "node/node_config.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace parley::node;

namespace {

std::string write_file(const std::string& dir, const std::string& text) {
  auto path = dir + "/node.toml";
  std::ofstream{path} << text;
  return path;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("the shipped configs/node.toml loads and names every key") {
  node_config cfg;
  load_config_file(PARLEY_SOURCE_DIR "/configs/node.toml", cfg);
  validate(cfg);
  CHECK(cfg.edge.server.port == 8080);
  CHECK(cfg.edge.ws.max_frame_bytes == 65536);
  std::ifstream in{PARLEY_SOURCE_DIR "/configs/node.toml"};
  std::stringstream text;
  text << in.rdbuf();
  for (auto& key : config_keys()) {
    auto dot = key.find('.');
    auto name = key.substr(dot + 1) + " = ";
    INFO(key);
    CHECK(text.str().find("\n" + name) != std::string::npos);
  }
}

TEST_CASE("unknown keys, wrong types and out-of-range values name the key") {
  parley::test::temp_dir dir;
  node_config cfg;
  CHECK(error_of([&] { load_config_file(write_file(dir.path(), "[ws]\nmax_frame = 1\n"), cfg); })
        == "ws.max_frame: unknown key");
  CHECK(error_of([&] {
          load_config_file(write_file(dir.path(), "[ws]\nmax_frame_bytes = \"big\"\n"), cfg);
        }) == "ws.max_frame_bytes: expected an integer");
  CHECK(error_of([&] {
          load_config_file(write_file(dir.path(), "[server]\nio_threads = 0\n"), cfg);
        }).find("server.io_threads: out of range") == 0);
  CHECK(error_of([&] {
          load_config_file(write_file(dir.path(), "[storage]\nsync = \"sometimes\"\n"), cfg);
        }).find("storage.sync: invalid value") == 0);
  CHECK(error_of([&] { load_config_file(write_file(dir.path(), "top = 1\n"), cfg); })
          .find("top:") == 0);
  CHECK(error_of([&] { load_config_file(write_file(dir.path(), "[ws\n"), cfg); }).find(":1:")
        != std::string::npos);
  CHECK(error_of([&] { load_config_file(dir.path() + "/missing.toml", cfg); }) != "");
}

TEST_CASE("a --set override takes any key with the same validation") {
  node_config cfg;
  apply_override("ws.max_frame_bytes=1024", cfg);
  CHECK(cfg.edge.ws.max_frame_bytes == 1024);
  apply_override("log.level=debug", cfg);  // bare string
  CHECK(cfg.log.level == "debug");
  apply_override("storage.sync=\"none\"", cfg);  // TOML string
  CHECK(cfg.storage.sync == parley::storage::sync_mode::none);
  apply_override("auth.dev_tokens=true", cfg);
  CHECK(cfg.edge.auth.dev_tokens);
  CHECK(error_of([&] { apply_override("auth.dev_tokens=maybe", cfg); })
        == "auth.dev_tokens: cannot parse value \"maybe\"");
  CHECK(error_of([&] { apply_override("ws.max_frame_bytes=\"big\"", cfg); })
        == "ws.max_frame_bytes: expected an integer");
  CHECK(error_of([&] { apply_override("nope.key=1", cfg); }) == "nope.key: unknown key");
  CHECK(error_of([&] { apply_override("ws.max_frame_bytes=1", cfg); }).find("out of range")
        != std::string::npos);
  CHECK(error_of([&] { apply_override("novalue", cfg); }).find("expected section.key=value")
        != std::string::npos);
}

TEST_CASE("listen addresses are HOST:PORT") {
  node_config cfg;
  apply_listen("0.0.0.0:9000", cfg);
  CHECK(cfg.edge.server.host == "0.0.0.0");
  CHECK(cfg.edge.server.port == 9000);
  apply_listen("[::1]:0", cfg);
  CHECK(cfg.edge.server.host == "::1");
  CHECK(error_of([&] { apply_listen("localhost", cfg); }).find("server.listen") == 0);
  CHECK(error_of([&] { apply_listen("h:70000", cfg); }).find("invalid port") != std::string::npos);
}

TEST_CASE("a missing JWT secret is refused") {
  node_config cfg;
  CHECK(error_of([&] { validate(cfg); }) == "auth.jwt_secret: must be set to at least 16 bytes");
}

TEST_CASE("a heartbeat interval at or above the idle timeout is refused") {
  node_config cfg;
  apply_override("auth.jwt_secret=0123456789abcdef", cfg);
  apply_override("ws.idle_timeout_sec=10", cfg);
  CHECK(error_of([&] { validate(cfg); }).find("ws.heartbeat_interval_ms: must be below") == 0);
  apply_override("ws.heartbeat_interval_ms=5000", cfg);
  CHECK(error_of([&] { validate(cfg); }).empty());
}

TEST_CASE("links and rate-limit keys are validated") {
  node_config cfg;
  apply_override("links.base_url=https://prly.example/", cfg);
  CHECK(cfg.links.base_url == "https://prly.example");  // trailing slash dropped
  CHECK(error_of([&] { apply_override("links.base_url=ftp://prly.example", cfg); })
        == "links.base_url: must start with http:// or https://");
  CHECK(error_of([&] { apply_override("links.cache_entries=0", cfg); })
          .find("links.cache_entries: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("links.stats_flush_ms=1", cfg); })
          .find("links.stats_flush_ms: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("ratelimit.max_keys_per_rule=10", cfg); })
          .find("ratelimit.max_keys_per_rule: out of range")
        == 0);
  apply_override("ratelimit.rules_file=/etc/parley/ratelimits.toml", cfg);
  CHECK(cfg.ratelimit.rules_file == "/etc/parley/ratelimits.toml");
}

TEST_CASE("feed keys are validated, and ranking weights take decimals") {
  node_config cfg;
  apply_override("feed.celebrity_threshold=3", cfg);
  CHECK(cfg.feed.celebrity_threshold == 3);
  apply_override("feed.ranking_diversity_penalty=0.5", cfg);
  CHECK(cfg.feed.ranking.diversity_penalty == 0.5);
  apply_override("feed.ranking_affinity_weight=2", cfg);  // an integer is a number too
  CHECK(cfg.feed.ranking.affinity == 2.0);
  CHECK(error_of([&] { apply_override("feed.ranking_diversity_penalty=1.5", cfg); })
          .find("feed.ranking_diversity_penalty: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("feed.ranking_engagement_weight=high", cfg); })
        == "feed.ranking_engagement_weight: expected a number");
  CHECK(error_of([&] { apply_override("feed.celebrity_threshold=0", cfg); })
          .find("feed.celebrity_threshold: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("feed.max_items=1.5", cfg); })
        == "feed.max_items: expected an integer");
  apply_override("feed.ranking_half_life_hours=0", cfg);
  apply_override("auth.jwt_secret=0123456789abcdef", cfg);
  CHECK(error_of([&] { validate(cfg); }) == "feed.ranking_half_life_hours: must be above 0");
}

TEST_CASE("task keys are validated: worker pools, http timeouts and allow list, owner limits") {
  parley::test::temp_dir dir;
  node_config cfg;
  CHECK(cfg.tasks.http_allow.empty());  // http tasks reach nothing until the operator says so
  CHECK(cfg.tasks.http_workers == 2);
  CHECK(cfg.tasks.push_workers == 2);
  CHECK(cfg.tasks.max_waiting_per_owner == 10000);
  apply_override("tasks.http_workers=0", cfg);
  apply_override("tasks.push_workers=3", cfg);
  CHECK(cfg.tasks.http_workers == 0);
  CHECK(cfg.tasks.push_workers == 3);
  apply_override("tasks.http_timeout_ms=2500", cfg);
  CHECK(cfg.tasks.http_timeout_ms == 2500);
  apply_override("tasks.http_max_response_bytes=100", cfg);
  CHECK(cfg.tasks.http_max_response_bytes == 100);
  apply_override("tasks.max_waiting_per_owner=5", cfg);
  CHECK(cfg.tasks.max_waiting_per_owner == 5);
  apply_override("tasks.max_memory_payload_bytes=1048576", cfg);
  CHECK(cfg.tasks.max_memory_payload_bytes == 1048576);
  apply_override(R"(tasks.http_allow=["hooks.example.com", "*.example.org", "10.1.0.0/16", "::1"])",
                 cfg);
  CHECK(cfg.tasks.http_allow.size() == 4);
  load_config_file(write_file(dir.path(), "[tasks]\nhttp_allow = [\"127.0.0.1\", \"*\"]\n"), cfg);
  CHECK(cfg.tasks.http_allow == std::vector<std::string>{"127.0.0.1", "*"});
  CHECK(error_of([&] { apply_override("tasks.http_allow=[\"10.0.0.0/33\"]", cfg); })
          .find("tasks.http_allow: entry \"10.0.0.0/33\": bad prefix length")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.http_allow=[\"http://x\"]", cfg); })
          .find("tasks.http_allow: entry \"http://x\"")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.http_allow=[\"\"]", cfg); })
          .find("tasks.http_allow: entry \"\": empty")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.http_allow=127.0.0.1", cfg); })
        == "tasks.http_allow: cannot parse value \"127.0.0.1\"");
  CHECK(error_of([&] { apply_override("tasks.http_allow=\"127.0.0.1\"", cfg); })
        == "tasks.http_allow: expected an array of strings");
  CHECK(error_of([&] { apply_override("tasks.http_allow=[1, 2]", cfg); })
        == "tasks.http_allow: expected an array of strings");
  CHECK(error_of([&] {
          load_config_file(write_file(dir.path(), "[tasks]\nhttp_allow = \"*\"\n"), cfg);
        }) == "tasks.http_allow: expected an array of strings");
  CHECK(error_of([&] { apply_override("tasks.http_timeout_ms=10", cfg); })
          .find("tasks.http_timeout_ms: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.http_timeout_ms=300001", cfg); })
          .find("tasks.http_timeout_ms: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.http_workers=-1", cfg); })
          .find("tasks.http_workers: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.push_workers=257", cfg); })
          .find("tasks.push_workers: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.max_waiting_per_owner=0", cfg); })
          .find("tasks.max_waiting_per_owner: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.max_memory_payload_bytes=-1", cfg); })
          .find("tasks.max_memory_payload_bytes: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.http_max_response_bytes=2000000", cfg); })
          .find("tasks.http_max_response_bytes: out of range")
        == 0);
  CHECK(error_of([&] { apply_override("tasks.builtin_workers=4", cfg); })
        == "tasks.builtin_workers: unknown key");
}

TEST_CASE("chat and presence limits have defaults and are validated") {
  node_config cfg;
  CHECK(cfg.chat.max_groups_created_per_hour == 50);
  CHECK(cfg.chat.max_groups_per_user == 1000);
  CHECK(cfg.presence.visibility == parley::chat::presence_visibility::contacts);
  CHECK(cfg.presence.max_subscriptions == 5000);
  CHECK(cfg.presence.max_subscriptions_per_user == 20000);
  apply_override("presence.visibility=all", cfg);
  CHECK(cfg.presence.visibility == parley::chat::presence_visibility::all);
  CHECK(error_of([&] { apply_override("presence.visibility=friends", cfg); })
        == "presence.visibility: invalid value \"friends\" (allowed: contacts, all)");
  CHECK(error_of([&] { apply_override("chat.max_groups_created_per_hour=0", cfg); })
          .find("chat.max_groups_created_per_hour: out of range") == 0);
  CHECK(error_of([&] { apply_override("chat.max_groups_per_user=-1", cfg); })
          .find("chat.max_groups_per_user: out of range") == 0);
  CHECK(error_of([&] { apply_override("presence.max_subscriptions=0", cfg); })
          .find("presence.max_subscriptions: out of range") == 0);
  apply_override("auth.jwt_secret=0123456789abcdef", cfg);
  apply_override("presence.max_subscriptions=100", cfg);
  apply_override("presence.max_subscriptions_per_user=99", cfg);
  CHECK(error_of([&] { validate(cfg); })
        == "presence.max_subscriptions_per_user: must be at least presence.max_subscriptions (100)");
  apply_override("presence.max_subscriptions_per_user=100", cfg);
  CHECK(error_of([&] { validate(cfg); }).empty());
}

TEST_CASE("PARLEY_SECTION__KEY environment variables override like --set and name themselves") {
  node_config cfg;
  const char* env[] = {"PATH=/usr/bin", "PARLEY_NODE=http://x", "PARLEY_ADMIN__ALLOW_MUTATIONS=false",
                       "PARLEY_SERVER__LISTEN=0.0.0.0:9000", "PARLEY_LOG__LEVEL=debug", nullptr};
  apply_environment(env, cfg);
  CHECK_FALSE(cfg.admin.allow_mutations);
  CHECK(cfg.edge.server.host == "0.0.0.0");
  CHECK(cfg.edge.server.port == 9000);
  CHECK(cfg.log.level == "debug");
  const char* bad[] = {"PARLEY_WS__MAX_FRAME_BYTES=lots", nullptr};
  CHECK_THROWS_WITH(apply_environment(bad, cfg),
                    Catch::Contains("PARLEY_WS__MAX_FRAME_BYTES: ws.max_frame_bytes"));
  const char* unknown[] = {"PARLEY_ADMIN__COLOUR=red", nullptr};
  CHECK_THROWS_WITH(apply_environment(unknown, cfg),
                    Catch::Contains("PARLEY_ADMIN__COLOUR: admin.colour: unknown key"));
}

TEST_CASE("admin keys are validated") {
  node_config cfg;
  apply_override("admin.listen=127.0.0.1:9091", cfg);
  CHECK(cfg.admin.listen == "127.0.0.1:9091");
  apply_override("admin.listen=", cfg);
  CHECK(cfg.admin.listen.empty());
  CHECK_THROWS_WITH(apply_override("admin.listen=loopback", cfg),
                    Catch::Contains("admin.listen: expected HOST:PORT"));
  CHECK_THROWS_WITH(apply_override("admin.drain_duration_sec=90000", cfg),
                    Catch::Contains("admin.drain_duration_sec: out of range"));
  CHECK_THROWS(apply_override("admin.allow_mutations=maybe", cfg));
}

TEST_CASE("cluster keys default to a single node and are validated by name") {
  node_config cfg;
  auto& cl = cfg.cluster;
  CHECK_FALSE(cl.enabled);
  CHECK(cl.cluster_id == "parley");
  CHECK(cl.node_id.empty());
  CHECK(cl.advertise.empty());
  CHECK(cl.listen == "127.0.0.1:9080");
  CHECK(cl.etcd_endpoints == std::vector<std::string>{"http://127.0.0.1:2379"});
  CHECK(cl.lease_ttl == std::chrono::milliseconds{3000});
  CHECK(cl.partitions == 256);
  CHECK(cl.replication_factor == 1);
  CHECK(cl.replication_log_bytes == uint64_t{64} << 20);
  CHECK(cl.replication_catch_up_bytes_per_sec == uint64_t{64} << 20);
  CHECK(cl.heartbeat == std::chrono::milliseconds{500});
  CHECK(cl.connection_timeout == std::chrono::milliseconds{3000});
  CHECK(cl.request_timeout == std::chrono::milliseconds{5000});

  apply_override("cluster.partitions=65536", cfg);
  CHECK(cl.partitions == 65536);
  apply_override(R"(cluster.etcd_endpoints=["http://10.0.0.1:2379", "http://10.0.0.2:2379"])", cfg);
  CHECK(cl.etcd_endpoints.size() == 2);
  CHECK_THROWS_WITH(apply_override("cluster.partitions=0", cfg),
                    Catch::StartsWith("cluster.partitions: out of range"));
  CHECK_THROWS_WITH(apply_override("cluster.partitions=65537", cfg),
                    Catch::StartsWith("cluster.partitions: out of range"));
  apply_override("cluster.replication_factor=2", cfg);
  CHECK(cl.replication_factor == 2);
  CHECK_THROWS_WITH(apply_override("cluster.replication_factor=3", cfg),
                    Catch::StartsWith("cluster.replication_factor: out of range"));
  CHECK_THROWS_WITH(apply_override("cluster.replication_factor=0", cfg),
                    Catch::StartsWith("cluster.replication_factor: out of range"));
  apply_override("cluster.replication_log_bytes=65536", cfg);
  CHECK(cl.replication_log_bytes == 65536);
  CHECK_THROWS_WITH(apply_override("cluster.replication_log_bytes=-1", cfg),
                    Catch::StartsWith("cluster.replication_log_bytes: out of range"));
  apply_override("cluster.replication_catch_up_bytes_per_sec=0", cfg);
  CHECK(cl.replication_catch_up_bytes_per_sec == 0);
  CHECK_THROWS_WITH(apply_override("cluster.replication_catch_up_bytes_per_sec=x", cfg),
                    Catch::Contains("cluster.replication_catch_up_bytes_per_sec"));
  CHECK_THROWS_WITH(apply_override("cluster.lease_ttl_ms=999", cfg),
                    Catch::StartsWith("cluster.lease_ttl_ms: out of range"));
  CHECK_THROWS_WITH(apply_override("cluster.heartbeat_ms=0", cfg),
                    Catch::StartsWith("cluster.heartbeat_ms: out of range"));
  CHECK_THROWS_WITH(apply_override("cluster.request_timeout_ms=10", cfg),
                    Catch::StartsWith("cluster.request_timeout_ms: out of range"));
  CHECK_THROWS_WITH(apply_override("cluster.connection_timeout_ms=-1", cfg),
                    Catch::StartsWith("cluster.connection_timeout_ms: out of range"));
  CHECK_THROWS_WITH(apply_override("cluster.enabled=yes", cfg),
                    Catch::StartsWith("cluster.enabled:"));
  CHECK_THROWS_WITH(apply_override("cluster.cluster_id=a/b", cfg),
                    Catch::StartsWith("cluster.cluster_id: invalid character '/'"));
  CHECK_THROWS_WITH(apply_override("cluster.cluster_id=", cfg),
                    Catch::StartsWith("cluster.cluster_id: must be 1..128 bytes"));
  CHECK_THROWS_WITH(apply_override("cluster.node_id=node 1", cfg),
                    Catch::StartsWith("cluster.node_id: invalid character ' '"));
  CHECK_THROWS_WITH(apply_override("cluster.listen=9080", cfg),
                    Catch::StartsWith("cluster.listen: expected HOST:PORT"));
  CHECK_THROWS_WITH(apply_override("cluster.advertise=10.0.0.1:0", cfg),
                    Catch::StartsWith("cluster.advertise: port 0 cannot be dialed"));
  CHECK_THROWS_WITH(apply_override(R"(cluster.etcd_endpoints=["https://etcd:2379"])", cfg),
                    Catch::StartsWith("cluster.etcd_endpoints: entry \"https://etcd:2379\""));
  CHECK_THROWS_WITH(apply_override("cluster.etcd_endpoints=\"http://etcd:2379\"", cfg),
                    Catch::StartsWith("cluster.etcd_endpoints: expected an array of strings"));
  CHECK_THROWS_WITH(apply_override("cluster.members=3", cfg),
                    Catch::StartsWith("cluster.members: unknown key"));
}

TEST_CASE("cluster keys are checked against each other, the peer address only when enabled") {
  node_config cfg;
  apply_override("auth.jwt_secret=0123456789abcdef", cfg);
  CHECK(error_of([&] { validate(cfg); }).empty());
  // A peer link is declared dead only after heartbeats were missed.
  apply_override("cluster.connection_timeout_ms=500", cfg);
  CHECK(error_of([&] { validate(cfg); })
        == "cluster.connection_timeout_ms: must be above cluster.heartbeat_ms (500 ms)");
  apply_override("cluster.connection_timeout_ms=3000", cfg);

  // A wildcard listen address is fine alone, but an enabled node must say where peers dial it.
  apply_override("cluster.listen=0.0.0.0:9080", cfg);
  CHECK(error_of([&] { validate(cfg); }).empty());
  apply_override("cluster.enabled=true", cfg);
  CHECK(error_of([&] { validate(cfg); }).find("cluster.advertise: must be set") == 0);
  apply_override("cluster.advertise=10.0.0.7:9080", cfg);
  CHECK(error_of([&] { validate(cfg); }).empty());

  apply_override("cluster.etcd_endpoints=[]", cfg);
  CHECK(error_of([&] { validate(cfg); }).find("cluster.etcd_endpoints: must name") == 0);
  apply_override(R"(cluster.etcd_endpoints=["http://127.0.0.1:2379"])", cfg);

  apply_override("cluster.listen=127.0.0.1:8080", cfg);  // server.listen's default
  CHECK(error_of([&] { validate(cfg); }) == "cluster.listen: must differ from server.listen");
  apply_override("cluster.listen=127.0.0.1:9091", cfg);
  apply_override("admin.listen=0.0.0.0:9091", cfg);
  CHECK(error_of([&] { validate(cfg); }) == "cluster.listen: must differ from admin.listen");
  apply_override("admin.listen=", cfg);
  CHECK(error_of([&] { validate(cfg); }).empty());
}

TEST_CASE("a node's cluster id and advertise address are derived when not set") {
  cluster_options cl;
  CHECK(cluster_advertise(cl) == "127.0.0.1:9080");
  CHECK(cluster_node_id(cl) == "127.0.0.1:9080");
  cl.advertise = "10.0.0.7:7000";
  CHECK(cluster_advertise(cl) == "10.0.0.7:7000");
  CHECK(cluster_node_id(cl) == "10.0.0.7:7000");
  cl.node_id = "n7";
  CHECK(cluster_node_id(cl) == "n7");
}

TEST_CASE("the three-node configs in configs/cluster load and make one cluster") {
  std::vector<std::string> files;
  for (auto& entry : std::filesystem::directory_iterator{PARLEY_SOURCE_DIR "/configs/cluster"})
    if (entry.path().extension() == ".toml")
      files.push_back(entry.path().string());
  REQUIRE(files.size() == 3);
  std::set<std::string> node_ids;
  std::set<std::string> peer_addresses;
  std::set<std::string> data_dirs;
  std::set<std::string> secrets;
  for (auto& file : files) {
    INFO(file);
    node_config cfg;
    load_config_file(file, cfg);
    validate(cfg);
    CHECK(cfg.cluster.enabled);
    CHECK(cfg.cluster.partitions == 256);
    CHECK(cfg.cluster.etcd_endpoints == std::vector<std::string>{"http://127.0.0.1:2379"});
    CHECK(cfg.edge.server.port == 8080);
    node_ids.insert(cluster_node_id(cfg.cluster));
    peer_addresses.insert(cluster_advertise(cfg.cluster));
    data_dirs.insert(cfg.storage.data_dir);
    secrets.insert(cfg.edge.auth.jwt_secret);
  }
  CHECK(node_ids == std::set<std::string>{"n1", "n2", "n3"});
  CHECK(peer_addresses.size() == 3);
  CHECK(data_dirs == std::set<std::string>{"data/n1", "data/n2", "data/n3"});
  CHECK(secrets.size() == 1);  // a token minted on one node is valid on all
}
