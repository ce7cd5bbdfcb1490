// The opening handshake's checks and answer, and which permessage-deflate offers are accepted.
#include "net/edge_options.hpp"
#include "net/ws_handshake.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::net;
using namespace parley::net::ws;

TEST_CASE("Sec-WebSocket-Accept is computed as RFC 6455 shows") {
  CHECK(accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("the handshake answers 101 to a valid request") {
  ws_options opts;
  upgrade_fields fields{"dGhlIHNhbXBsZSBub25jZQ==", "13", "permessage-deflate"};
  auto h = accept_handshake(fields, opts);
  REQUIRE(h);
  CHECK(h->response
        == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  CHECK_FALSE(h->deflate);  // ws.permessage_deflate is off by default

  opts.permessage_deflate = true;
  auto with = accept_handshake(fields, opts);
  REQUIRE(with);
  REQUIRE(with->deflate);
  CHECK(with->response.find("Sec-WebSocket-Extensions: permessage-deflate\r\n") != std::string::npos);
}

TEST_CASE("the handshake refuses a wrong version or key with bad_request") {
  ws_options opts;
  upgrade_fields fields{"dGhlIHNhbXBsZSBub25jZQ==", "13", ""};
  SECTION("version 8") { fields.version = "8"; }
  SECTION("no version") { fields.version = ""; }
  SECTION("no key") { fields.key = ""; }
  SECTION("a key of the wrong length") { fields.key = "dGhlIHNhbXBsZQ=="; }
  SECTION("a key outside base64") { fields.key = "dGhlIHNhbXBsZSBub25j*Q=="; }
  auto h = accept_handshake(fields, opts);
  REQUIRE_FALSE(h);
  CHECK(h.error().code == errc::bad_request);
}

TEST_CASE("permessage-deflate offers: the first one this server can honour") {
  SECTION("a plain offer, the node's window") {
    auto a = negotiate_deflate("permessage-deflate; client_max_window_bits", 12, 6);
    REQUIRE(a);
    CHECK(a->window_bits == 12);
    CHECK(a->mem_level == 6);
    CHECK(a->response == "permessage-deflate");
  }
  SECTION("the client limits the server's window and asks for no context takeover") {
    auto a = negotiate_deflate(
      "permessage-deflate; server_max_window_bits=10; server_no_context_takeover", 15, 8);
    REQUIRE(a);
    CHECK(a->window_bits == 10);
    CHECK(a->server_no_context_takeover);
    CHECK(a->response
          == "permessage-deflate; server_no_context_takeover; server_max_window_bits=10");
  }
  SECTION("a window zlib cannot do is declined, the next offer taken") {
    auto a = negotiate_deflate(
      "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=\"11\"",
      15, 8);
    REQUIRE(a);
    CHECK(a->window_bits == 11);
  }
  SECTION("unknown parameters, duplicates and bad values are declined") {
    CHECK_FALSE(negotiate_deflate("permessage-deflate; frobnicate", 15, 8));
    CHECK_FALSE(negotiate_deflate(
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover", 15, 8));
    CHECK_FALSE(negotiate_deflate("permessage-deflate; server_max_window_bits=16", 15, 8));
    CHECK_FALSE(negotiate_deflate("permessage-deflate; server_max_window_bits", 15, 8));
    CHECK_FALSE(negotiate_deflate("x-webkit-deflate-frame", 15, 8));
    CHECK_FALSE(negotiate_deflate("", 15, 8));
  }
}
