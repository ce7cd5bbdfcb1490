// How a connection actor reaches its socket without knowing about Beast: the WebSocket session
// implements this interface (net/websocket_session.cpp), a benchmark or a test can implement it
// without sockets. Calls come from actor threads; implementations hand off (post to a strand).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace parley::pb {
class ServerFrame;
}

namespace parley {

class pushed_frame;

enum class wire_format : uint8_t {
  json,    // WebSocket text frame: protobuf JSON mapping, snake_case names
  binary,  // WebSocket binary frame: protobuf encoding
};

class outbound_sink {
public:
  virtual ~outbound_sink() = default;

  // Queues `frame` for the client, encoded as `format`. Past the connection's outbound bound
  // the sink closes the connection with 1013 instead; nothing else is reported back.
  virtual void send(const pb::ServerFrame& frame, wire_format format) = 0;

  // The same for a frame shared by many connections (actors/connection/pushed_frame.hpp): a
  // socket sink queues its shared encoding instead of encoding it again. By default, as send().
  virtual void send_shared(const std::shared_ptr<const pushed_frame>& frame, wire_format format);

  // Closes the connection with a WebSocket close code (1000 normal, 1001 going away, ...).
  virtual void close(uint16_t code, std::string reason) = 0;

  // The format for frames the server sends on its own (the `encoding` the client asked for).
  virtual wire_format preferred_format() const = 0;

  // Bytes that can still be queued before the outbound bound closes the connection. Bulk
  // senders (sync, catch-up) stop well before it and let the client ask again.
  virtual size_t outbound_room() const = 0;
};

} // namespace parley
