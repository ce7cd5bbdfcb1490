#include "tools/command_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace parley::tools {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

void close_fd(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

// A descriptor that becomes readable when the child exits (Linux 5.3+), or -1: then exits are
// noticed by polling waitpid every few milliseconds.
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0)
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#else
  (void)pid;
  return -1;
#endif
}

// The worker's environment with `extra` ("NAME=value") added, replacing same-named entries.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry{*e};
    auto name = entry.substr(0, entry.find('=') + 1);
    bool replaced = std::any_of(extra.begin(), extra.end(), [&](const std::string& x) {
      return std::string_view{x}.substr(0, name.size()) == name;
    });
    if (!replaced)
      env.emplace_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// Reads what `fd` has now; false once it reached end of file or failed (then it is closed).
template <class Sink>
bool drain(int& fd, Sink&& sink) {
  char buf[65536];
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      sink(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return true;
    close_fd(fd);
    return false;
  }
}

} // namespace

std::string command_result::last_err_line() const {
  auto text = std::string_view{err_tail};
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  auto nl = text.rfind('\n');
  if (nl != std::string_view::npos)
    text.remove_prefix(nl + 1);
  constexpr size_t max_line = 500;
  if (text.size() > max_line)
    text = text.substr(text.size() - max_line);
  return std::string{text};
}

command_result run_command(const std::string& command, std::string_view input,
                           const std::function<bool()>& tick, const command_options& opts) {
  command_result r;
  auto started = steady::now();
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    r.spawn_error = std::string{"pipe: "} + std::strerror(errno);
    for (int* p : {in, out, err}) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
    return r;
  }

  // The child gets the pipe ends as 0, 1, 2 (dup2 clears close-on-exec on the copies), default
  // signal handling and an empty signal mask (the worker blocks SIGTERM for its signal thread
  // and ignores SIGPIPE), and a process group of its own so that a stop reaches everything the
  // shell started.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT})
    sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
  auto env = child_environment(opts.env);
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close_fd(in[0]);
  close_fd(out[1]);
  close_fd(err[1]);
  int in_fd = in[1], out_fd = out[0], err_fd = err[0];
  if (rc != 0) {
    r.spawn_error = std::string{"spawn /bin/sh: "} + std::strerror(rc);
    close_fd(in_fd);
    close_fd(out_fd);
    close_fd(err_fd);
    return r;
  }
  for (int fd : {in_fd, out_fd, err_fd})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (input.empty())
    close_fd(in_fd);
  int pid_fd = open_pidfd(pid);

  size_t written = 0;
  bool exited = false;
  int status = 0;
  bool term_sent = false, kill_sent = false;
  auto now = steady::now();
  auto next_tick = now + opts.tick_interval;
  steady::time_point term_at, exited_at;
  auto keep_out = [&](const char* p, size_t n) {
    auto room = opts.max_stdout_bytes - std::min(opts.max_stdout_bytes, r.out.size());
    if (n > room)
      r.out_truncated = true;
    r.out.append(p, std::min(n, room));
  };
  auto keep_err = [&](const char* p, size_t n) {
    r.err_tail.append(p, n);
    if (r.err_tail.size() > 2 * opts.stderr_tail_bytes)
      r.err_tail.erase(0, r.err_tail.size() - opts.stderr_tail_bytes);
  };

  for (;;) {
    now = steady::now();
    if (exited && ((out_fd < 0 && err_fd < 0) || now - exited_at >= opts.drain_timeout))
      break;
    // Wake for the next tick, the SIGKILL deadline or the end of the drain.
    auto wake = next_tick;
    if (term_sent && !kill_sent)
      wake = std::min(wake, term_at + opts.kill_grace);
    if (exited)
      wake = std::min(wake, exited_at + opts.drain_timeout);
    auto wait = std::chrono::duration_cast<milliseconds>(wake - now).count();
    if (!exited && pid_fd < 0)
      wait = std::min<long long>(wait, 5);  // no pidfd: look at waitpid often
    pollfd fds[4];
    nfds_t n = 0;
    auto add = [&](int fd, short events) {
      if (fd >= 0)
        fds[n++] = pollfd{fd, events, 0};
    };
    add(in_fd, POLLOUT);
    add(out_fd, POLLIN);
    add(err_fd, POLLIN);
    add(exited ? -1 : pid_fd, POLLIN);
    if (::poll(fds, n, static_cast<int>(std::max<long long>(wait, 0))) < 0 && errno != EINTR) {
      // Cannot happen with valid descriptors; stop rather than spin.
      ::kill(-pid, SIGKILL);
      break;
    }
    if (in_fd >= 0) {
      while (written < input.size()) {
        auto w = ::write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) {
          written += static_cast<size_t>(w);
          continue;
        }
        if (w < 0 && errno == EINTR)
          continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
          break;
        written = input.size();  // EPIPE: the command does not read its input
      }
      if (written >= input.size())
        close_fd(in_fd);
    }
    if (out_fd >= 0)
      drain(out_fd, keep_out);
    if (err_fd >= 0)
      drain(err_fd, keep_err);
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      exited_at = steady::now();
      close_fd(in_fd);
      continue;
    }
    now = steady::now();
    if (!exited && now >= next_tick) {
      next_tick = now + opts.tick_interval;
      if (!term_sent && tick && tick()) {
        r.stopped = true;
        term_sent = true;
        term_at = now;
        ::kill(-pid, SIGTERM);
      }
    }
    if (!exited && term_sent && !kill_sent && now - term_at >= opts.kill_grace) {
      kill_sent = true;
      ::kill(-pid, SIGKILL);
    }
  }
  if (!exited)
    ::waitpid(pid, &status, 0);
  close_fd(in_fd);
  close_fd(out_fd);
  close_fd(err_fd);
  close_fd(pid_fd);
  if (WIFEXITED(status))
    r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    r.term_signal = WTERMSIG(status);
  r.duration = std::chrono::duration_cast<milliseconds>(steady::now() - started);
  return r;
}

} // namespace parley::tools
