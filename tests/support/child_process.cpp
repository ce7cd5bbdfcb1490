#include "support/child_process.hpp"

#include <boost/asio.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace parley::test {

uint16_t free_port(const std::string& host) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor probe{ioc, {boost::asio::ip::make_address(host), 0}};
  return probe.local_endpoint().port();
}

child_process::child_process(const std::vector<std::string>& args, std::string log_path)
  : log_path_(std::move(log_path)) {
  // Built before fork(): the child of a threaded process may only call async-signal-safe
  // functions until it execs.
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0)
    throw std::runtime_error("cannot open " + log_path_);
  pid_ = ::fork();
  if (pid_ == 0) {
    // Dies with the test's thread that started it, even when the test binary crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
}

child_process::~child_process() {
  kill();
}

bool child_process::exited() {
  if (pid_ <= 0)
    return true;
  if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
    pid_ = -1;
    return true;
  }
  return false;
}

void child_process::signal(int sig) {
  if (pid_ > 0)
    ::kill(pid_, sig);
}

void child_process::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status_, 0);
  pid_ = -1;
}

int child_process::wait_exit(std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!exited()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return status_;
}

std::string child_process::log_tail(size_t shown) const {
  std::ifstream in{log_path_};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  std::ostringstream out;
  for (size_t i = lines.size() > shown ? lines.size() - shown : 0; i < lines.size(); ++i)
    out << lines[i] << '\n';
  return out.str();
}

} // namespace parley::test
