#include "net/ws_handshake.hpp"

#include "net/edge_options.hpp"

#include <openssl/sha.h>

#include <cctype>

namespace parley::net::ws {

namespace {

constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const unsigned char* data, size_t size) {
  static constexpr char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (size_t i = 0; i < size; i += 3) {
    uint32_t chunk = uint32_t{data[i]} << 16;
    if (i + 1 < size)
      chunk |= uint32_t{data[i + 1]} << 8;
    if (i + 2 < size)
      chunk |= data[i + 2];
    out.push_back(alphabet[(chunk >> 18) & 63]);
    out.push_back(alphabet[(chunk >> 12) & 63]);
    out.push_back(i + 1 < size ? alphabet[(chunk >> 6) & 63] : '=');
    out.push_back(i + 2 < size ? alphabet[chunk & 63] : '=');
  }
  return out;
}

// A key is 16 random bytes in base64: 22 characters of the alphabet, then "==".
bool valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==")
    return false;
  for (char c : key.substr(0, 22))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/')
      return false;
  return true;
}

} // namespace

std::string accept_key(std::string_view key) {
  std::string input{key};
  input += websocket_guid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof digest);
}

result<handshake> accept_handshake(const upgrade_fields& fields, const ws_options& opts) {
  if (fields.version != "13")
    return make_fault(errc::bad_request, "Sec-WebSocket-Version must be 13");
  if (!valid_key(fields.key))
    return make_fault(errc::bad_request,
                      "Sec-WebSocket-Key must be 16 bytes in base64 (24 characters)");
  handshake h;
  if (opts.permessage_deflate)
    h.deflate = negotiate_deflate(fields.extensions, opts.deflate_window_bits,
                                  opts.deflate_mem_level);
  h.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: ";
  h.response += accept_key(fields.key);
  h.response += "\r\n";
  if (h.deflate) {
    h.response += "Sec-WebSocket-Extensions: ";
    h.response += h.deflate->response;
    h.response += "\r\n";
  }
  h.response += "\r\n";
  return h;
}

} // namespace parley::net::ws
