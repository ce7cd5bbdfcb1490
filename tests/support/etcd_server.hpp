// A real etcd (Debian's etcd-server) for tests: one member on free loopback ports with a data
// directory of its own, started by the constructor and answering before it returns; killed and
// its directory removed by the destructor, also when the test fails. Faults for tests: pause()
// and resume() (SIGSTOP/SIGCONT: a stalled member), kill().
#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace parley::test {

struct etcd_server_options {
  // The loopback address to listen on (127.0.0.x, or an address of a network namespace).
  // Default: 127.0.0.1
  std::string host = "127.0.0.1";
  // Time for the member to answer /health after it was started. Default: 20000 ms
  std::chrono::milliseconds start_timeout{20000};
};

class etcd_server {
public:
  // Throws std::runtime_error with the end of etcd's log when it does not come up.
  explicit etcd_server(etcd_server_options opts = {});
  ~etcd_server();
  etcd_server(const etcd_server&) = delete;
  etcd_server& operator=(const etcd_server&) = delete;

  // "http://127.0.0.1:<client port>", for etcd_options::endpoints.
  const std::string& endpoint() const { return endpoint_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  // SIGSTOP: the member keeps its sockets but answers nothing, as a hung or partitioned one.
  void pause();
  // SIGCONT after pause().
  void resume();
  // SIGKILL, and waits for it: connections are refused from then on.
  void kill();

  // Compacts the store up to `revision`: watches from before it end as compacted. False when
  // etcd refused.
  bool compact(int64_t revision);

  // The last lines of etcd's log, for failure messages.
  std::string log_tail() const;

private:
  bool start_once(const etcd_server_options& opts);

  temp_dir dir_;
  std::string endpoint_;
  std::unique_ptr<child_process> process_;
};

} // namespace parley::test
