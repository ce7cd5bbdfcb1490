// The network edge of a node: an Asio io_context with its threads, the listener, the idle
// reaper for WebSockets and the SIGTERM drain. Routes are added before start().
#pragma once

#include "common/errc.hpp"
#include "net/edge_options.hpp"
#include "net/router.hpp"

#include <caf/fwd.hpp>

#include <chrono>

#include <cstdint>
#include <memory>
#include <string>

namespace parley::net {

struct edge_context;

// Where a lame-duck drain (admin `node drain`) stands.
struct drain_progress {
  bool draining = false;     // between lame_duck() and end_lame_duck()
  int64_t started_at_ms = 0; // unix ms
  int64_t duration_ms = 0;   // the sessions' closes are spread over this
  uint64_t total = 0;        // WebSockets open when the drain began
  uint64_t closed = 0;       // of those, told to close (1012) so far
  uint64_t open = 0;         // WebSockets open now
};

class server {
public:
  // -- constructors --------------------------------------------------------------------------

  server(edge_options opts, caf::actor_system& sys, std::string node_id);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // -- modifiers -----------------------------------------------------------------------------

  router& routes();

  // Binds and starts accepting on the io threads. Fails with a fault naming the address.
  fault start();

  // /readyz answers 200 only once this is true.
  void set_ready(bool ready);

  // Stops accepting, closes every WebSocket with 1001 and waits (at most the drain timeout)
  // for them to go; HTTP answers after this carry `Connection: close`.
  void drain();

  // Lame duck: /readyz answers 503, WebSocket upgrades are refused (503), and the WebSockets
  // open now are closed with 1012 (service restart) at an even pace over `over`, so their
  // clients reconnect elsewhere without a storm. HTTP is served as before. A second call
  // starts over with the sessions open then.
  void lame_duck(std::chrono::milliseconds over);
  // Ends a drain: ready again, upgrades accepted; sessions not yet closed stay open.
  void end_lame_duck();
  drain_progress lame_duck_progress() const;

  // Stops the io threads. Idempotent.
  void stop();

  // After stop(): releases the connection actors of sessions the drain could not close in
  // time, so that the actor system can shut down.
  void abandon_sessions();

  // -- observers -----------------------------------------------------------------------------

  // The bound port (useful with port 0).
  uint16_t port() const;
  const std::string& host() const;
  size_t websocket_count() const;
  edge_context& context();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace parley::net
