#include "support/parleyd_process.hpp"

#include <signal.h>

#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

#ifndef PARLEYD_PATH
#error "PARLEYD_PATH must name the parleyd binary (tests/CMakeLists.txt sets it)"
#endif

namespace parley::test {

const std::string parleyd_test_secret = "cluster-test-secret-0123456789abcdef";

namespace {

// The port in the node's "node <id> ready on <host>:<port>" line, 0 while there is none.
uint16_t ready_port(const std::string& log_path) {
  static const std::regex ready{R"(node \S+ ready on [^ ]*:(\d+) )"};
  std::ifstream in{log_path};
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, ready))
      return static_cast<uint16_t>(std::stoi(m[1]));
  }
  return 0;
}

} // namespace

parleyd_process::parleyd_process(std::string data_dir, std::vector<std::string> args,
                                 std::chrono::milliseconds start_timeout, std::string host,
                                 std::vector<std::string> launcher)
  : data_dir_(std::move(data_dir)), host_(std::move(host)) {
  auto log_path = data_dir_ + ".log";
  {
    std::ofstream truncate{log_path};  // a restart's log starts over
  }
  std::vector<std::string> argv = std::move(launcher);
  argv.insert(argv.end(), {PARLEYD_PATH,
                           "--listen", host_ + ":0",
                           "--data-dir", data_dir_,
                           "--set", "auth.jwt_secret=" + parleyd_test_secret,
                           "--set", "auth.dev_tokens=true",
                           "--set", "storage.sync=none",
                           "--set", "server.max_connections_per_ip=0"});
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<child_process>(argv, log_path);
  auto deadline = std::chrono::steady_clock::now() + start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_->exited())
      throw std::runtime_error("parleyd exited while starting:\n" + process_->log_tail(30));
    if ((port_ = ready_port(log_path)) != 0)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  process_->kill();
  throw std::runtime_error("parleyd did not start in time:\n" + process_->log_tail(30));
}

int parleyd_process::terminate(std::chrono::milliseconds within) {
  process_->signal(SIGTERM);
  return process_->wait_exit(within);
}

} // namespace parley::test
