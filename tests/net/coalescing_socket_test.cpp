// The WebSocket stream's socket gathers writes: bytes written while a write is on the wire go
// out together in the next one, in order.
#include "common/metrics.hpp"
#include "net/coalescing_socket.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::net;

namespace {

// A connected loopback pair: `server` wrapped, `client` plain.
struct socket_pair {
  asio::io_context io;
  tcp::socket client{io};
  coalescing_socket server{tcp::socket{io}};

  socket_pair() {
    tcp::acceptor acceptor{io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server.next_layer());
  }
};

uint64_t socket_writes() {
  return metrics::global()
    .get_counter("ws_socket_writes_total",
                 "Socket writes of WebSocket bytes (one carries every frame queued meanwhile)")
    .value();
}

} // namespace

TEST_CASE("writes made while one is on the wire go out together, in order") {
  socket_pair p;
  auto before = socket_writes();
  std::vector<std::string> parts{"first|", "second|", "third|"};
  size_t completed = 0;
  for (auto& part : parts)
    p.server.async_write_some(asio::buffer(part), [&](beast::error_code ec, size_t n) {
      CHECK_FALSE(ec);
      CHECK(n > 0);
      ++completed;
    });
  // The first went to the socket at once; the others wait for it, buffered.
  CHECK(p.server.buffered() == 19);
  p.io.run();
  CHECK(completed == 3);
  CHECK(p.server.buffered() == 0);
  CHECK(socket_writes() - before == 2);
  std::string got(19, '\0');
  asio::read(p.client, asio::buffer(got));
  CHECK(got == "first|second|third|");
}

TEST_CASE("after a failed write every later write fails, and waiters still run") {
  socket_pair p;
  p.client.close();
  std::string big(1 << 20, 'x');  // more than the socket buffers take from a closed peer
  beast::error_code last;
  for (int i = 0; i < 8; ++i)
    p.server.async_write_some(asio::buffer(big), [&](beast::error_code ec, size_t) { last = ec; });
  p.io.run();
  p.io.restart();
  bool flushed = false;
  p.server.after_flush([&] { flushed = true; });
  p.server.async_write_some(asio::buffer(big), [&](beast::error_code ec, size_t) { last = ec; });
  p.io.run();
  CHECK(flushed);
  CHECK(last);  // broken pipe or reset: not silently dropped
  CHECK(p.server.buffered() == 0);
}
