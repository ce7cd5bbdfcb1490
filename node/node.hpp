// One Parley node: wires the configuration, storage, the actor system, the virtual-actor
// registry and the network edge together, and owns start-up and the SIGTERM drain.
#pragma once

#include "common/errc.hpp"
#include "common/result.hpp"
#include "node/node_config.hpp"
#include "node/reload_hooks.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parley::node {

class node {
public:
  // -- constructors --------------------------------------------------------------------------

  explicit node(node_config cfg);
  ~node();

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  // -- modifiers -----------------------------------------------------------------------------

  // Opens storage, starts the actor system and the listener; ready once this returns.
  fault start();

  // Applies a freshly loaded configuration: runs every reload hook (SIGHUP); the hooks' names.
  std::vector<std::string> reload(const node_config& fresh);

  // Where reload_from_source() reads the configuration (parleyd: the config file and flags);
  // without one it reuses the configuration the node started with. `load` may throw
  // config_error.
  void set_config_source(std::function<node_config()> load);
  // Loads the configuration from its source and applies it (admin `config reload`); a
  // configuration that does not load is a bad_request and changes nothing.
  result<std::vector<std::string>> reload_from_source();

  // Drains (stop accepting, close WebSockets with 1001), flushes storage and stops everything.
  // Idempotent; the destructor calls it. Call it from the thread that called start(): CAF
  // 0.17's actor_system destructor was seen to hang when run from another thread.
  void shutdown();

  // -- observers -----------------------------------------------------------------------------

  uint16_t port() const;
  // The admin listener's port (admin.listen), or port() when the admin API is on the public one.
  uint16_t admin_port() const;
  const std::string& id() const;
  const node_config& config() const { return cfg_; }
  reload_hooks& hooks() { return hooks_; }

  // What a running node holds (defined in node.cpp, built by its start-up phases).
  struct impl;

private:
  node_config cfg_;
  reload_hooks hooks_;
  std::mutex source_mtx_;
  std::function<node_config()> source_;
  std::unique_ptr<impl> impl_;
};

// Sets the level of the default spdlog logger ("info", "debug", ...).
void apply_log_level(const std::string& level);

} // namespace parley::node
