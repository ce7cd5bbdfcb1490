// What SIGHUP does: each service registers a hook that takes the freshly loaded configuration
// and applies what it can change at run time (log level now; rate-limit rules later).
#pragma once

#include "node/node_config.hpp"

#include <functional>
#include <string>
#include <vector>

namespace parley::node {

class reload_hooks {
public:
  using hook = std::function<void(const node_config&)>;

  void add(std::string name, hook fn) { hooks_.push_back({std::move(name), std::move(fn)}); }

  // Runs every hook in registration order; returns the names that ran.
  std::vector<std::string> run(const node_config& fresh) const {
    std::vector<std::string> ran;
    for (auto& [name, fn] : hooks_) {
      fn(fresh);
      ran.push_back(name);
    }
    return ran;
  }

private:
  std::vector<std::pair<std::string, hook>> hooks_;
};

} // namespace parley::node
