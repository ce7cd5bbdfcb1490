#include "net/server.hpp"

#include "common/metrics.hpp"
#include "net/beast.hpp"
#include "net/edge_context.hpp"
#include "net/http_session.hpp"
#include "net/websocket_session.hpp"

#include "common/clock.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <mutex>

#include <thread>
#include <vector>

namespace parley::net {

namespace {

// A close handshake that has not finished after this long (a peer that stopped reading keeps
// our last write, and so the close frame, from going out) ends with a dropped socket.
constexpr int64_t close_grace_ms = 5000;

struct server_metrics {
  metrics::counter& accept_errors = metrics::global().get_counter(
    "accept_errors_total", "Failed accepts (out of file descriptors and the like)");
  metrics::counter& refused = metrics::global().get_counter(
    "connections_refused_total", "Connections refused past server.max_connections_per_ip");
};

server_metrics& instruments() {
  static server_metrics m;
  return m;
}

} // namespace

struct server::impl {
  edge_context ctx;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor;
  asio::steady_timer reaper;
  std::vector<std::thread> threads;
  // Requests with large bodies are handled here, off the io threads (edge_context::offload).
  asio::thread_pool large_bodies{1};
  uint16_t bound_port = 0;
  // Accept failures (acceptor strand only): the current pause, and the ones not yet logged.
  int64_t accept_pause_ms = 0;
  uint64_t accept_errors = 0;
  std::chrono::steady_clock::time_point last_accept_log{};
  static constexpr std::chrono::seconds accept_log_interval{10};

  // The lame-duck drain: sessions to close, paced by a timer.
  asio::steady_timer drain_timer;
  mutable std::mutex drain_mtx;
  drain_progress drain;
  std::vector<std::weak_ptr<websocket_session>> to_close;
  std::chrono::steady_clock::time_point drain_start;
  uint64_t drain_generation = 0;  // a restarted or ended drain's ticks find a newer one and stop

  impl(edge_options opts, caf::actor_system& sys, std::string node_id)
    : ctx(std::move(opts), sys, std::move(node_id)),
      ioc(ctx.opts.server.io_threads),
      acceptor(asio::make_strand(ioc)),
      reaper(ioc),
      drain_timer(ioc) {
    ctx.offload = [this](std::function<void()> work) {
      asio::post(large_bodies, std::move(work));
    };
  }

  void do_accept() {
    // Each connection's socket runs on a strand of its own (http_session::socket_type).
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec,
                                                         http_session::socket_type s) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open())
          return;
        return accept_failed(ec);
      }
      accept_pause_ms = 0;
      beast::error_code ignored;
      auto peer = s.remote_endpoint(ignored);
      connection_limit::ticket ticket;
      if (ignored || !ctx.per_ip.try_acquire(address_key(peer.address()), ticket)) {
        refuse(std::move(s));
        return do_accept();
      }
      s.set_option(tcp::no_delay(true), ignored);
      std::make_shared<http_session>(std::move(s), ctx, std::move(ticket))->run();
      do_accept();
    });
  }

  // Out of file descriptors (EMFILE, ENFILE) and the like: accepting again at once would fail
  // again at once (a log line each time, a core spinning). Back off up to a second and log one
  // line per interval with the count, while the connections already open are served.
  void accept_failed(const beast::error_code& ec) {
    ++accept_errors;
    instruments().accept_errors.inc();
    auto now = std::chrono::steady_clock::now();
    if (now - last_accept_log >= accept_log_interval) {
      spdlog::warn("accept: {} ({} failure(s) in the last {} s; retrying)", ec.message(),
                   accept_errors, accept_log_interval.count());
      accept_errors = 0;
      last_accept_log = now;
    }
    accept_pause_ms = std::min<int64_t>(std::max<int64_t>(accept_pause_ms * 2, 10), 1000);
    auto pause = std::make_shared<asio::steady_timer>(ioc,
                                                      std::chrono::milliseconds{accept_pause_ms});
    pause->async_wait([this, pause](beast::error_code) { do_accept(); });
  }

  // Past server.max_connections_per_ip: a short 429 written without waiting (the socket's
  // buffer takes it), then the socket is closed, so a refused client holds nothing here.
  void refuse(http_session::socket_type s) {
    instruments().refused.inc();
    static const std::string answer = [] {
      std::string body = R"({"error":{"code":"rate_limited","message":)"
                         R"("too many connections from this address","retry_after_ms":"1000"}})";
      return "HTTP/1.1 429 Too Many Requests\r\nServer: parleyd\r\n"
             "Content-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    beast::error_code ignored;
    s.non_blocking(true, ignored);
    s.write_some(asio::buffer(answer), ignored);
    s.shutdown(tcp::socket::shutdown_both, ignored);
    s.close(ignored);
  }

  static connection_limit::address_key address_key(const asio::ip::address& a) {
    auto v6 = a.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()) : a.to_v6();
    return v6.to_bytes();
  }

  // Closes the share of the drain's sessions that is due by now, then waits for the next one.
  void drain_tick(uint64_t generation) {
    std::vector<std::shared_ptr<websocket_session>> due;
    {
      std::lock_guard<std::mutex> guard{drain_mtx};
      if (generation != drain_generation || !drain.draining)
        return;
      auto elapsed = std::chrono::steady_clock::now() - drain_start;
      auto over = std::chrono::milliseconds{std::max<int64_t>(drain.duration_ms, 1)};
      auto share = std::min<double>(1.0, std::chrono::duration<double>(elapsed) / over);
      auto target = static_cast<uint64_t>(std::ceil(share * static_cast<double>(drain.total)));
      for (; drain.closed < target; ++drain.closed)
        if (auto s = to_close[drain.closed].lock())
          due.push_back(std::move(s));
      if (drain.closed == drain.total) {
        to_close.clear();
        to_close.shrink_to_fit();
      }
    }
    for (auto& s : due)
      s->close(ws::close_code::service_restart, "server draining");
    std::lock_guard<std::mutex> guard{drain_mtx};
    if (drain.closed == drain.total)
      return;
    // Ticks at least every 100 ms, more often when one session is due sooner.
    auto step = std::max<int64_t>(1, std::min<int64_t>(100, drain.duration_ms
                                                              / static_cast<int64_t>(drain.total)));
    drain_timer.expires_after(std::chrono::milliseconds{step});
    drain_timer.async_wait([this, generation](beast::error_code ec) {
      if (!ec)
        drain_tick(generation);
    });
  }

  // One timer for all WebSockets instead of one per connection (memory per connection).
  void schedule_reaper() {
    reaper.expires_after(std::chrono::seconds{1});
    reaper.async_wait([this](beast::error_code ec) {
      if (ec)
        return;
      auto limit_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        ctx.opts.ws.idle_timeout)
                        .count();
      auto now = websocket_session::steady_ms();
      ctx.sessions.for_each([&](websocket_session& s) {
        auto closing = s.closing_ms(now);
        if (closing > close_grace_ms)
          s.force_close();  // the peer never let our close frame out
        else if (closing < 0 && s.idle_ms(now) > limit_ms)
          s.close(ws::close_code::going_away, "idle timeout");
        else if (s.holds_idle_write_buffers())
          s.trim_write_buffers();
      });
      schedule_reaper();
    });
  }
};

server::server(edge_options opts, caf::actor_system& sys, std::string node_id)
  : impl_(std::make_unique<impl>(std::move(opts), sys, std::move(node_id))) {
}

server::~server() {
  stop();
}

router& server::routes() {
  return impl_->ctx.routes;
}

fault server::start() {
  auto& so = impl_->ctx.opts.server;
  beast::error_code ec;
  auto address = asio::ip::make_address(so.host, ec);
  if (ec)
    return make_fault(errc::bad_request, "invalid listen address " + so.host);
  tcp::endpoint ep{address, so.port};
  auto& acc = impl_->acceptor;
  auto where = so.host + ":" + std::to_string(so.port);
  acc.open(ep.protocol(), ec);
  if (!ec)
    acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acc.bind(ep, ec);
  if (!ec)
    acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_fault(errc::unavailable, "cannot listen on " + where + ": " + ec.message());
  impl_->bound_port = acc.local_endpoint().port();
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->do_accept();
  impl_->schedule_reaper();
  for (int i = 0; i < so.io_threads; ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return {};
}

void server::set_ready(bool ready) {
  impl_->ctx.ready.store(ready);
}

void server::drain() {
  auto& ctx = impl_->ctx;
  if (ctx.draining.exchange(true))
    return;
  asio::post(impl_->acceptor.get_executor(), [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  ctx.sessions.for_each([](websocket_session& s) {
    s.close(ws::close_code::going_away, "server shutting down");
  });
  auto deadline = std::chrono::steady_clock::now() + ctx.opts.server.drain_timeout;
  while (ctx.sessions.size() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  if (auto left = ctx.sessions.size())
    spdlog::warn("drain: {} WebSocket(s) still open after {} s", left,
                 ctx.opts.server.drain_timeout.count());
}

void server::lame_duck(std::chrono::milliseconds over) {
  auto& im = *impl_;
  im.ctx.lame_duck.store(true);  // from now on upgrades are refused; on_accept closes stragglers
  std::vector<std::weak_ptr<websocket_session>> open;
  im.ctx.sessions.for_each([&](websocket_session& s) { open.push_back(s.weak_from_this()); });
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> guard{im.drain_mtx};
    generation = ++im.drain_generation;
    im.to_close = std::move(open);
    im.drain = drain_progress{};
    im.drain.draining = true;
    im.drain.started_at_ms = unix_ms();
    im.drain.duration_ms = over.count();
    im.drain.total = im.to_close.size();
    im.drain_start = std::chrono::steady_clock::now();
  }
  spdlog::warn("drain: lame duck; closing {} WebSocket(s) over {} ms", im.to_close.size(),
               over.count());
  asio::post(im.drain_timer.get_executor(), [this, generation] { impl_->drain_tick(generation); });
}

void server::end_lame_duck() {
  auto& im = *impl_;
  {
    std::lock_guard<std::mutex> guard{im.drain_mtx};
    ++im.drain_generation;
    im.drain.draining = false;
    im.to_close.clear();
  }
  im.ctx.lame_duck.store(false);
  spdlog::warn("drain: ended; accepting WebSockets again");
}

drain_progress server::lame_duck_progress() const {
  std::lock_guard<std::mutex> guard{impl_->drain_mtx};
  auto out = impl_->drain;
  out.open = impl_->ctx.sessions.size();
  return out;
}

void server::stop() {
  if (!impl_ || impl_->threads.empty())
    return;
  impl_->work.reset();
  {
    std::lock_guard<std::mutex> guard{impl_->drain_mtx};
    ++impl_->drain_generation;  // a drain in progress stops with the io threads
  }
  impl_->ioc.stop();
  impl_->large_bodies.stop();
  impl_->large_bodies.join();
  for (auto& t : impl_->threads)
    t.join();
  impl_->threads.clear();
}

void server::abandon_sessions() {
  impl_->ctx.sessions.for_each([](websocket_session& s) { s.abandon(); });
}

uint16_t server::port() const {
  return impl_->bound_port;
}

const std::string& server::host() const {
  return impl_->ctx.opts.server.host;
}

size_t server::websocket_count() const {
  return impl_->ctx.sessions.size();
}

edge_context& server::context() {
  return impl_->ctx;
}

} // namespace parley::net
