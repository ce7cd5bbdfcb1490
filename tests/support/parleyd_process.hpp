// A real parleyd process on a free loopback port, for tests that need what only a process can
// do: be killed (SIGKILL), stopped (SIGSTOP) or restarted on its data directory, as a node of
// a cluster. The binary comes from the build (PARLEYD_PATH).
#pragma once

#include "support/child_process.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace parley::test {

// The JWT secret every test parleyd gets (a token from one node is valid on all).
extern const std::string parleyd_test_secret;

class parleyd_process {
public:
  // Starts parleyd on `host` (a loopback address; free port) with `data_dir`, dev tokens and the
  // test secret, then `args` (e.g. {"--set", "cluster.enabled=true"}); returns once it logged
  // "ready on". Throws std::runtime_error with the end of its log when it does not get there.
  // `launcher` runs it somewhere else, e.g. {"ip", "netns", "exec", "<ns>"} (support/
  // netns_lab.hpp); it must exec parleyd so that the child's pid is parleyd's.
  parleyd_process(std::string data_dir, std::vector<std::string> args,
                  std::chrono::milliseconds start_timeout = std::chrono::seconds{20},
                  std::string host = "127.0.0.1", std::vector<std::string> launcher = {});

  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }
  child_process& process() { return *process_; }
  const std::string& data_dir() const { return data_dir_; }

  // SIGKILL, and waits for it.
  void kill() { process_->kill(); }
  // SIGTERM; its exit status, or -1 when it did not exit within `within`.
  int terminate(std::chrono::milliseconds within);
  std::string log_tail(size_t lines = 30) const { return process_->log_tail(lines); }

private:
  std::string data_dir_;
  std::string host_;
  std::unique_ptr<child_process> process_;
  uint16_t port_ = 0;
};

} // namespace parley::test
