// The network edge of a node: an Asio io_context with its threads, the listener, the idle
// reaper for WebSockets and the SIGTERM drain. Routes are added before start().
#pragma once

#include "common/errc.hpp"
#include "net/edge_options.hpp"
#include "net/router.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace parley::net {

struct edge_context;

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
