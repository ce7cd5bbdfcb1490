// Runs one shell command for parley-worker: `/bin/sh -c <command>` in its own process group,
// the input on its stdin, stdout and stderr captured through pipes, stopped on request with
// SIGTERM to the group and SIGKILL after a grace period.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::tools {

struct command_options {
  // Extra environment variables ("NAME=value") on top of the worker's own.
  std::vector<std::string> env;
  // stdout kept beyond this is dropped (still read, so the command never blocks on it), and
  // the result says so. Default: 1 MiB
  size_t max_stdout_bytes = size_t{1} << 20;
  // The last this-many bytes of stderr are kept (for the error line). Default: 4096 bytes
  size_t stderr_tail_bytes = 4096;
  // After SIGTERM, time before SIGKILL. Default: 10000 ms
  std::chrono::milliseconds kill_grace{10000};
  // How often `tick` is called while the command runs. Default: 100 ms
  std::chrono::milliseconds tick_interval{100};
  // After the shell exits, time to wait for its pipes to close (a background child may hold
  // them). Default: 1000 ms
  std::chrono::milliseconds drain_timeout{1000};
};

struct command_result {
  // Set when the command could not be started; nothing else is then meaningful.
  std::string spawn_error;
  // Exit status when it exited, else -1.
  int exit_code = -1;
  // Signal that ended it, else 0.
  int term_signal = 0;
  // `tick` asked to stop it.
  bool stopped = false;
  std::string out;
  bool out_truncated = false;
  std::string err_tail;
  std::chrono::milliseconds duration{0};

  bool started() const { return spawn_error.empty(); }
  bool succeeded() const { return started() && exit_code == 0; }
  // The last non-empty line of stderr, for error messages.
  std::string last_err_line() const;
};

// Runs `command` to its end. `tick` (may be empty) is called about every tick_interval from
// this thread; returning true stops the command. Blocks the calling thread. The process must
// ignore SIGPIPE (a command that exits without reading its input would otherwise end it).
// The command starts with default signal dispositions and an empty signal mask.
command_result run_command(const std::string& command, std::string_view input,
                           const std::function<bool()>& tick, const command_options& opts);

} // namespace parley::tools
