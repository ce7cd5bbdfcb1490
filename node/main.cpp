// parleyd: one Parley node. Parses flags and the config file, starts the node, then waits for
// signals: SIGTERM/SIGINT drain and exit 0, SIGHUP reloads the config file.
#include "node/node.hpp"
#include "node/node_config.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <unistd.h>

namespace {

constexpr const char* version = "parleyd 0.1.0";

parley::node::node_config load(const std::string& file, const std::string& listen,
                               const std::string& data_dir,
                               const std::vector<std::string>& overrides) {
  parley::node::node_config cfg;
  if (!file.empty())
    parley::node::load_config_file(file, cfg);
  // The environment overrides the file; flags override both.
  parley::node::apply_environment(environ, cfg);
  if (!listen.empty())
    parley::node::apply_listen(listen, cfg);
  if (!data_dir.empty())
    parley::node::apply_override("storage.data_dir=" + data_dir, cfg);
  for (auto& o : overrides)
    parley::node::apply_override(o, cfg);
  parley::node::validate(cfg);
  return cfg;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"parleyd: one Parley node (chat, feed, tasks, links, rate limits)"};
  std::string config_file;
  std::string listen;
  std::string data_dir;
  std::vector<std::string> overrides;
  app.add_option("-c,--config", config_file, "TOML config file (see configs/node.toml)");
  app.add_option("-l,--listen", listen, "HOST:PORT to listen on (overrides server.listen)");
  app.add_option("-d,--data-dir", data_dir, "RocksDB directory (overrides storage.data_dir)");
  app.add_option("-s,--set", overrides, "Override any config key: section.key=value")
    ->take_all();
  app.set_version_flag("-V,--version", version);
  CLI11_PARSE(app, argc, argv);

  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  parley::node::node_config cfg;
  try {
    cfg = load(config_file, listen, data_dir, overrides);
  } catch (const parley::node::config_error& e) {
    std::cerr << "parleyd: config: " << e.what() << "\n";
    return 2;
  }
  parley::node::apply_log_level(cfg.log.level);

  // Signals are handled by this thread alone (sigwait), so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  parley::node::node node{cfg};
  // Admin `config reload` reads what SIGHUP reads.
  node.set_config_source([&] {
    return config_file.empty() ? cfg : load(config_file, listen, data_dir, overrides);
  });
  if (auto err = node.start()) {
    spdlog::error("start-up failed: {}", err.message);
    return 1;
  }
  auto base = "http://" + cfg.edge.server.host + ":" + std::to_string(node.port());
  spdlog::info("listening on {}  (chat client {}/, health {}/healthz, metrics {}/metrics, "
               "WebSocket ws://{}:{}/ws)",
               base, base, base, base, cfg.edge.server.host, node.port());

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      // Without --config the settings stay; the files they name (rate-limit rules) reload.
      if (auto reloaded = node.reload_from_source(); !reloaded)
        spdlog::error("SIGHUP: {}", reloaded.error().message);
      continue;
    }
    spdlog::info("{}: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    node.shutdown();
    return 0;
  }
}
