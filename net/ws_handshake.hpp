// The server's half of the WebSocket opening handshake (RFC 6455 4.2): checks the upgrade
// request's WebSocket fields and builds the 101 answer, with permessage-deflate when the node
// offers it and the client asked. The HTTP session has already checked method, path, Upgrade
// and Connection, the token and the rate limits.
#pragma once

#include "common/result.hpp"
#include "net/ws_deflate.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace parley::net {
struct ws_options;
}

namespace parley::net::ws {

// The fields of the upgrade request this needs, from whichever parser read it.
struct upgrade_fields {
  std::string_view key;         // Sec-WebSocket-Key
  std::string_view version;     // Sec-WebSocket-Version
  std::string extensions;       // every Sec-WebSocket-Extensions line, joined with ","
};

struct handshake {
  std::string response;  // the whole 101 head, ready to write
  std::optional<deflate_agreement> deflate;
};

// The 101 answer, or bad_request naming the field that is missing or wrong (an unsupported
// version is answered with `Sec-WebSocket-Version: 13` by the caller).
result<handshake> accept_handshake(const upgrade_fields& fields, const ws_options& opts);

// Sec-WebSocket-Accept for a key: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view key);

} // namespace parley::net::ws
