// A program a test runs beside itself (etcd, parleyd): started with its output in a log file,
// killed with the test's thread even when the test binary crashes, and signalled for faults.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::test {

// A port nobody listens on right now at `host`. The program binds it a moment later: another
// process may take it in between (callers notice the program exit and retry).
uint16_t free_port(const std::string& host = "127.0.0.1");

class child_process {
public:
  // Runs args[0] (looked up in PATH) with stdout and stderr appended to `log_path`.
  child_process(const std::vector<std::string>& args, std::string log_path);
  // Kills it (SIGKILL) if it still runs.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }

  // True once it has exited (reaped).
  bool exited();
  // Sends `sig` (SIGSTOP, SIGCONT, SIGTERM, ...) while it runs.
  void signal(int sig);
  // SIGKILL, and waits for it.
  void kill();
  // Waits up to `within` for it to exit; its exit status (as waitpid's), or -1 if it still runs.
  int wait_exit(std::chrono::milliseconds within);

  // The last `lines` lines of its log, for failure messages.
  std::string log_tail(size_t lines = 20) const;
  const std::string& log_path() const { return log_path_; }

private:
  std::string log_path_;
  pid_t pid_ = -1;
  int status_ = 0;
};

} // namespace parley::test
