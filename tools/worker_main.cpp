// parley-worker: the reference worker for Parley tasks. Leases tasks of the given types and runs
// a shell command for each, the payload JSON on stdin.
//
//   parley-worker --url http://127.0.0.1:8080 --dev-user worker --type resize
//                 --command './resize.sh' --concurrency 4
//
// SIGTERM or SIGINT: stop leasing, wait for running commands; a second one stops those too.
#include "tools/dev_token.hpp"
#include "tools/worker.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace {

int config_error(const std::string& message) {
  std::cerr << "parley-worker: " << message << "\n";
  return 2;
}

std::string trim(std::string s) {
  auto first = s.find_first_not_of(" \t\r\n");
  auto last = s.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string{} : s.substr(first, last - first + 1);
}

std::string default_worker_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "worker");
  return std::string{host} + "-" + std::to_string(::getpid());
}

} // namespace

int main(int argc, char** argv) {
  using namespace parley::tools;
  CLI::App app{"parley-worker: runs a shell command for each leased Parley task, the payload "
               "JSON on stdin; exit 0 completes (stdout JSON becomes the result), anything "
               "else fails the attempt"};
  std::string url_text = "http://127.0.0.1:8080";
  std::string token, token_file, dev_user;
  worker_options opts;
  bool once = false;
  int kill_grace_sec = 10;
  std::string log_level = "info";
  app.add_option("--url", url_text, "Server base URL (plain http)")->capture_default_str();
  auto* token_opt = app.add_option("--token", token, "Bearer token (else PARLEY_TOKEN)");
  auto* file_opt =
    app.add_option("--token-file", token_file, "File holding the bearer token")
      ->excludes(token_opt);
  app.add_option("--dev-user", dev_user,
                 "Mint a dev token for this user (servers with auth.dev_tokens = true)")
    ->excludes(token_opt)
    ->excludes(file_opt);
  app.add_option("--type", opts.task_types, "Task type to lease (repeatable)")->required();
  app.add_option("--command", opts.command, "Run with /bin/sh -c for each task")->required();
  app.add_option("--concurrency", opts.concurrency, "Tasks run at the same time")
    ->capture_default_str()
    ->check(CLI::Range(1, 1024));
  app.add_option("--lease-sec", opts.lease_sec, "Lease length; heartbeats every lease-sec/3")
    ->capture_default_str()
    ->check(CLI::Range(1, 3600));
  app.add_option("--wait-ms", opts.wait_ms, "Long poll of one lease request")
    ->capture_default_str()
    ->check(CLI::Range(0, 60000));
  app.add_option("--worker-id", opts.worker_id,
                 "Worker id sent with leases (default hostname-pid)");
  app.add_flag("--once", once, "Exit after one task");
  app.add_option("--max-tasks", opts.max_tasks, "Exit after this many tasks (0: no limit)")
    ->capture_default_str();
  app.add_option("--non-retryable-exit", opts.non_retryable_exit,
                 "This exit status fails the task without retries (it goes DEAD)")
    ->check(CLI::Range(0, 255));
  app.add_option("--kill-grace-sec", kill_grace_sec,
                 "After SIGTERM to a command, seconds before SIGKILL")
    ->capture_default_str()
    ->check(CLI::Range(0, 3600));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
    ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  auto level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off")
    return config_error("unknown --log-level " + log_level);
  spdlog::set_level(level);

  std::string error;
  if (!parley::net::client::parse_http_url(url_text, opts.url, error))
    return config_error("--url: " + error);
  if (once)
    opts.max_tasks = 1;
  opts.kill_grace = std::chrono::seconds{kill_grace_sec};
  if (opts.worker_id.empty())
    opts.worker_id = default_worker_id();
  for (auto& t : opts.task_types)
    if (t.empty())
      return config_error("--type must not be empty");

  if (!token.empty()) {
    opts.token = token;
  } else if (!token_file.empty()) {
    std::ifstream in{token_file};
    std::stringstream text;
    text << in.rdbuf();
    opts.token = trim(text.str());
    if (!in || opts.token.empty())
      return config_error("--token-file " + token_file + ": unreadable or empty");
  } else if (!dev_user.empty()) {
    http_client client{opts.url, {}};
    opts.token = fetch_dev_token(client, dev_user, error);
    if (opts.token.empty())
      return config_error(error);
  } else if (const char* env = std::getenv("PARLEY_TOKEN"); env && *env) {
    opts.token = trim(env);
  } else {
    return config_error("no token: give --token, --token-file, --dev-user or PARLEY_TOKEN");
  }

  // Signals go to one thread (sigtimedwait) so that every other thread, and the commands they
  // start (which get a clean mask back), are undisturbed; SIGPIPE from a command that does not
  // read its stdin is an EPIPE instead.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  worker w{opts};
  std::atomic<bool> finished{false};
  std::thread signal_thread{[&] {
    timespec poll_interval{0, 200'000'000};
    int received = 0;
    while (!finished) {
      int sig = ::sigtimedwait(&signals, nullptr, &poll_interval);
      if (sig <= 0)
        continue;
      if (++received == 1)
        spdlog::info("{}: taking no new tasks; waiting for {} running command(s) (signal again "
                     "to stop them)",
                     strsignal(sig), w.running());
      else
        spdlog::info("{}: stopping running commands", strsignal(sig));
      w.request_stop();
    }
  }};
  int rc = w.run();
  finished = true;
  signal_thread.join();
  return rc;
}
