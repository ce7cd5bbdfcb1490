// ws_load: memory per WebSocket connection.
//
//   ws_load sockets --port P --server-pid PID --secret S [--stages 1000,5000,10000,19000]
//       Opens authenticated idle WebSocket connections to a running parleyd in stages, each
//       stage from its own worker process and loopback source address (127.0.0.2, .3, ...),
//       and reports the server's RSS per connection after each stage.
//   ws_load actors [--count 1000000]
//       Spawns connection actors in-process, without sockets (a null sink), and reports the
//       resident bytes per actor.
#include "actors/connection/connection_actor.hpp"
#include "actors/message_types.hpp"
#include "actors/runtime/atoms.hpp"
#include "net/jwt.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <caf/all.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

long rss_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 2; i + 1 < argc; ++i)
    if (argv[i] == name)
      return argv[i + 1];
  return fallback;
}

// -- sockets mode ------------------------------------------------------------------------------

struct client : std::enable_shared_from_this<client> {
  websocket::stream<tcp::socket> ws;
  beast::flat_buffer buf;
  std::string token;
  std::function<void(bool)> done;

  client(asio::io_context& ioc, std::string t) : ws(ioc), token(std::move(t)) {}

  void start(const tcp::endpoint& source, const tcp::endpoint& server) {
    beast::error_code ec;
    auto& s = ws.next_layer();
    s.open(tcp::v4(), ec);
    s.set_option(asio::socket_base::reuse_address(true), ec);
    s.bind(source, ec);
    if (ec)
      return done(false);
    s.async_connect(server, [self = shared_from_this()](beast::error_code ec) {
      if (ec)
        return self->done(false);
      self->ws.set_option(websocket::stream_base::decorator(
        [t = self->token](websocket::request_type& req) {
          req.set(beast::http::field::authorization, "Bearer " + t);
        }));
      self->ws.async_handshake("127.0.0.1", "/ws", [self](beast::error_code ec) {
        if (ec)
          return self->done(false);
        // Read the welcome, then stay idle (the server sees an idle, authenticated client).
        self->ws.async_read(self->buf, [self](beast::error_code ec, std::size_t) {
          self->done(!ec);
        });
      });
    });
  }
};

// A worker process: opens `count` connections from `source_ip` and holds them until killed.
[[noreturn]] void run_worker(int count, const std::string& source_ip, uint16_t port,
                             const std::string& secret, int first_user, int ready_fd) {
  asio::io_context ioc{1};
  tcp::endpoint server{asio::ip::make_address("127.0.0.1"), port};
  tcp::endpoint source{asio::ip::make_address(source_ip), 0};
  std::vector<std::shared_ptr<client>> clients;
  int ok = 0, failed = 0, started = 0;
  constexpr int in_flight = 200;  // handshakes at once: stays below the listen backlog
  std::function<void()> launch = [&] {
    while (started < count && started - ok - failed < in_flight) {
      parley::net::jwt_claims claims;
      claims.sub = "load-" + std::to_string(first_user + started);
      claims.exp = std::time(nullptr) + 86400;
      auto c = std::make_shared<client>(ioc, parley::net::jwt_sign(claims, secret));
      c->done = [&](bool success) {
        success ? ++ok : ++failed;
        if ((ok + failed) % 1000 == 0)
          std::fprintf(stderr, "  [%s] %d/%d connected\n", source_ip.c_str(), ok, count);
        if (ok + failed == count) {
          int msg[2] = {ok, failed};
          if (write(ready_fd, msg, sizeof msg) != sizeof msg)
            _exit(3);
        }
        launch();
      };
      clients.push_back(c);
      ++started;
      c->start(source, server);
    }
  };
  launch();
  ioc.run();
  pause();
  _exit(0);
}

int run_sockets(int argc, char** argv) {
  auto port = static_cast<uint16_t>(std::stoi(arg(argc, argv, "--port", "8080")));
  auto server_pid = static_cast<pid_t>(std::stoi(arg(argc, argv, "--server-pid", "0")));
  auto secret = arg(argc, argv, "--secret", "");
  std::vector<int> stages;
  std::stringstream list{arg(argc, argv, "--stages", "1000,5000,10000,19000")};
  for (std::string s; std::getline(list, s, ',');)
    stages.push_back(std::stoi(s));
  if (server_pid <= 0 || secret.empty()) {
    std::cerr << "usage: ws_load sockets --port P --server-pid PID --secret S [--stages ...]\n";
    return 2;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  auto baseline = rss_kib(server_pid);
  std::printf("server pid %d, baseline RSS %ld KiB\n", server_pid, baseline);
  std::printf("%12s %14s %16s %10s\n", "connections", "server RSS MiB", "bytes/connection",
              "failed");
  std::vector<pid_t> workers;
  int total = 0, total_failed = 0;
  for (size_t i = 0; i < stages.size(); ++i) {
    int add = stages[i] - total;
    int fds[2];
    if (pipe(fds) != 0)
      return 1;
    auto source = "127.0.0." + std::to_string(2 + i);
    auto pid = fork();
    if (pid == 0) {
      close(fds[0]);
      run_worker(add, source, port, secret, total, fds[1]);
    }
    close(fds[1]);
    workers.push_back(pid);
    int msg[2] = {0, 0};
    if (read(fds[0], msg, sizeof msg) != sizeof msg) {
      std::cerr << "worker " << source << " died\n";
      break;
    }
    close(fds[0]);
    total += msg[0];
    total_failed += msg[1];
    // Let the server settle (actors started, buffers released) before measuring.
    std::this_thread::sleep_for(std::chrono::seconds{2});
    auto rss = rss_kib(server_pid);
    std::printf("%12d %14.1f %16.0f %10d\n", total, rss / 1024.0,
                total > 0 ? (rss - baseline) * 1024.0 / total : 0.0, total_failed);
    std::fflush(stdout);
  }
  for (auto pid : workers)
    kill(pid, SIGKILL);
  for (auto pid : workers)
    waitpid(pid, nullptr, 0);
  return total_failed == 0 ? 0 : 1;
}

// -- actors mode -------------------------------------------------------------------------------

class null_sink : public parley::outbound_sink {
public:
  void send(const parley::pb::ServerFrame&, parley::wire_format) override {}
  void close(uint16_t, std::string) override {}
  parley::wire_format preferred_format() const override { return parley::wire_format::json; }
  size_t outbound_room() const override { return 1 << 20; }
};

int run_actors(int argc, char** argv) {
  auto count = std::stoi(arg(argc, argv, "--count", "1000000"));
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", int64_t{2});
  cfg.set("scheduler.policy", caf::atom("sharing"));
  parley::add_message_types(cfg);
  caf::actor_system sys{cfg};
  auto sink = std::make_shared<null_sink>();  // one shared sink: measures the actors alone
  auto services = std::make_shared<parley::connection_services>();  // shared, as on a node
  services->node = "n-bench";
  std::vector<caf::actor> actors;
  actors.reserve(count);
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  auto baseline = rss_kib(getpid());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    parley::connection_info info;
    info.user_id = "user-" + std::to_string(i);
    info.services = services;
    actors.push_back(parley::spawn_connection(sys, info, sink));
    if ((i + 1) % 100000 == 0)
      std::fprintf(stderr, "  %d actors spawned\n", i + 1);
  }
  // Let every actor run its start-up (the welcome) so it is idle, as after a real connect.
  std::this_thread::sleep_for(std::chrono::seconds{2});
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto rss = rss_kib(getpid());
  // The handle vector is bookkeeping of this benchmark, not of the actors: subtract it.
  double handles = static_cast<double>(count) * sizeof(caf::actor);
  std::printf("connection actors: %d, spawned in %.2f s\n", count, secs);
  std::printf("RSS delta %.1f MiB, %.0f bytes per idle connection actor\n",
              (rss - baseline) / 1024.0, ((rss - baseline) * 1024.0 - handles) / count);
  for (auto& a : actors)
    caf::anon_send(a, parley::closed_atom_v);
  actors.clear();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "sockets")
    return run_sockets(argc, argv);
  if (mode == "actors")
    return run_actors(argc, argv);
  std::cerr << "usage: ws_load sockets|actors [options]  (see the comment at the top of "
               "bench/ws_load.cpp)\n";
  return 2;
}
