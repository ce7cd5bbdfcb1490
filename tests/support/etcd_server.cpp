#include "support/etcd_server.hpp"

#include "net/client/http_client.hpp"

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
#include <vector>

namespace parley::test {

namespace {

using namespace std::chrono_literals;

// A port nobody listens on right now. etcd binds it a moment later: another process may take it
// in between, which start_once notices (etcd exits) and the constructor retries.
uint16_t free_port(const std::string& host) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor probe{ioc, {boost::asio::ip::make_address(host), 0}};
  return probe.local_endpoint().port();
}

// Tries for a port race: etcd exits at once when a port was taken meanwhile.
constexpr int start_attempts = 3;

} // namespace

etcd_server::etcd_server(etcd_server_options opts) {
  for (int attempt = 0; attempt < start_attempts; ++attempt)
    if (start_once(opts))
      return;
  throw std::runtime_error("etcd did not come up:\n" + log_tail());
}

etcd_server::~etcd_server() {
  kill();
}

bool etcd_server::start_once(const etcd_server_options& opts) {
  auto client_port = std::to_string(free_port(opts.host));
  auto peer_port = std::to_string(free_port(opts.host));
  endpoint_ = "http://" + opts.host + ":" + client_port;
  auto peer_url = "http://" + opts.host + ":" + peer_port;
  auto data_dir = dir_.path() + "/data-" + client_port;
  log_path_ = dir_.path() + "/etcd.log";
  std::vector<std::string> args = {
    "etcd",
    "--name", "parley-test",
    "--data-dir", data_dir,
    "--listen-client-urls", endpoint_,
    "--advertise-client-urls", endpoint_,
    "--listen-peer-urls", peer_url,
    "--initial-advertise-peer-urls", peer_url,
    "--initial-cluster", "parley-test=" + peer_url,
    "--initial-cluster-state", "new",
  };
  // Built before fork(): the child of a threaded process may only call async-signal-safe
  // functions until it execs.
  std::vector<char*> argv;
  for (auto& a : args)
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
    ::execvp("etcd", argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid_ < 0)
    throw std::runtime_error("fork failed");

  net::client::http_url url{opts.host, client_port, true, ""};
  net::client::http_client_options client_opts;
  client_opts.connect_timeout = 200ms;
  net::client::http_client health{url, client_opts};
  auto deadline = std::chrono::steady_clock::now() + opts.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    // 200 once the member has elected itself leader.
    auto res = health.request({"GET", "/health", "", {}}, 500ms);
    if (res.status == 200 && res.body.find("\"true\"") != std::string::npos)
      return true;
    std::this_thread::sleep_for(50ms);
  }
  kill();
  throw std::runtime_error("etcd did not answer /health in time:\n" + log_tail());
}

void etcd_server::pause() {
  if (pid_ > 0)
    ::kill(pid_, SIGSTOP);
}

void etcd_server::resume() {
  if (pid_ > 0)
    ::kill(pid_, SIGCONT);
}

void etcd_server::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool etcd_server::compact(int64_t revision) {
  net::client::http_url url;
  std::string error;
  if (!net::client::parse_http_url(endpoint_, url, error))
    return false;
  net::client::http_client client{url, {}};
  // The gateway's JSON carries int64 as a string.
  auto body = "{\"revision\":\"" + std::to_string(revision) + "\",\"physical\":true}";
  return client.post("/v3/kv/compaction", body, 5000ms).success();
}

std::string etcd_server::log_tail() const {
  std::ifstream in{log_path_};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  constexpr size_t shown = 20;
  std::ostringstream out;
  for (size_t i = lines.size() > shown ? lines.size() - shown : 0; i < lines.size(); ++i)
    out << lines[i] << '\n';
  return out.str();
}

} // namespace parley::test
