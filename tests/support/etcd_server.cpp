#include "support/etcd_server.hpp"

#include "net/client/http_client.hpp"

#include <signal.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace parley::test {

namespace {

using namespace std::chrono_literals;

// Tries for a port race: etcd exits at once when a port was taken between free_port and its bind.
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
  process_ = std::make_unique<child_process>(
    std::vector<std::string>{
      "etcd",
      "--name", "parley-test",
      "--data-dir", data_dir,
      "--listen-client-urls", endpoint_,
      "--advertise-client-urls", endpoint_,
      "--listen-peer-urls", peer_url,
      "--initial-advertise-peer-urls", peer_url,
      "--initial-cluster", "parley-test=" + peer_url,
      "--initial-cluster-state", "new",
    },
    dir_.path() + "/etcd.log");

  net::client::http_url url{opts.host, client_port, true, ""};
  net::client::http_client_options client_opts;
  client_opts.connect_timeout = 200ms;
  net::client::http_client health{url, client_opts};
  auto deadline = std::chrono::steady_clock::now() + opts.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_->exited())
      return false;
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
  if (process_)
    process_->signal(SIGSTOP);
}

void etcd_server::resume() {
  if (process_)
    process_->signal(SIGCONT);
}

void etcd_server::kill() {
  if (process_)
    process_->kill();
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
  return process_ ? process_->log_tail() : std::string{};
}

} // namespace parley::test
