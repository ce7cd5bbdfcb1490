#include "net/ws_deflate.hpp"

#include "net/http_text.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace parley::net::ws {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] == '"')
      quoted = !quoted;
    if (i == s.size() || (s[i] == sep && !quoted)) {
      parts.push_back(trim_ows(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  return parts;
}

// A window-bits value: 8..15, possibly quoted (RFC 7692 7.1.2.1); -1 when malformed.
int window_bits_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
    v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 2)
    return -1;
  int bits = 0;
  for (char c : v) {
    if (c < '0' || c > '9')
      return -1;
    bits = bits * 10 + (c - '0');
  }
  return bits >= 8 && bits <= 15 ? bits : -1;
}

// One offer, or nullopt when this server cannot accept it as written.
std::optional<deflate_agreement> accept_offer(std::string_view offer, int window_bits,
                                              int mem_level) {
  auto params = split(offer, ';');
  if (params.empty() || !iequals_ascii(params[0], "permessage-deflate"))
    return std::nullopt;
  deflate_agreement agreed;
  agreed.window_bits = window_bits;
  agreed.mem_level = mem_level;
  bool seen_server_max = false, seen_client_max = false, seen_client_nct = false;
  for (size_t i = 1; i < params.size(); ++i) {
    auto eq = params[i].find('=');
    auto name = trim_ows(params[i].substr(0, eq));
    auto value =
      eq == std::string_view::npos ? std::string_view{} : trim_ows(params[i].substr(eq + 1));
    bool has_value = eq != std::string_view::npos;
    if (iequals_ascii(name, "server_no_context_takeover")) {
      if (has_value || agreed.server_no_context_takeover)
        return std::nullopt;
      agreed.server_no_context_takeover = true;
    } else if (iequals_ascii(name, "client_no_context_takeover")) {
      // A hint this server need not answer: inflating with context works either way.
      if (has_value || seen_client_nct)
        return std::nullopt;
      seen_client_nct = true;
    } else if (iequals_ascii(name, "server_max_window_bits")) {
      auto bits = window_bits_value(value);
      if (!has_value || bits < 0 || seen_server_max)
        return std::nullopt;
      seen_server_max = true;
      agreed.window_bits = std::min(agreed.window_bits, bits);
    } else if (iequals_ascii(name, "client_max_window_bits")) {
      // Inflating always uses the largest window, so any client window is fine.
      if ((has_value && window_bits_value(value) < 0) || seen_client_max)
        return std::nullopt;
      seen_client_max = true;
    } else {
      return std::nullopt;
    }
  }
  if (agreed.window_bits < 9)
    return std::nullopt;  // zlib's raw deflate has no 256-byte window
  agreed.response = "permessage-deflate";
  if (agreed.server_no_context_takeover)
    agreed.response += "; server_no_context_takeover";
  if (seen_server_max)
    agreed.response += "; server_max_window_bits=" + std::to_string(agreed.window_bits);
  return agreed;
}

} // namespace

std::optional<deflate_agreement> negotiate_deflate(std::string_view extensions, int window_bits,
                                                   int mem_level) {
  for (auto offer : split(extensions, ','))
    if (auto agreed = accept_offer(offer, window_bits, mem_level))
      return agreed;
  return std::nullopt;
}

struct deflate_codec::streams {
  z_stream out{};
  z_stream in{};
  bool out_ready = false;
  bool in_ready = false;

  ~streams() {
    if (out_ready)
      deflateEnd(&out);
    if (in_ready)
      inflateEnd(&in);
  }
};

deflate_codec::deflate_codec(const deflate_agreement& agreed)
  : agreed_(agreed), z_(std::make_unique<streams>()) {
}

deflate_codec::~deflate_codec() = default;

void deflate_codec::compress(std::string_view payload, std::string& out) {
  auto& z = z_->out;
  if (!z_->out_ready) {
    // Negative window bits: raw deflate, no zlib header or checksum (RFC 7692 7.2.1).
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -agreed_.window_bits,
                     agreed_.mem_level, Z_DEFAULT_STRATEGY)
        != Z_OK)
      throw std::bad_alloc{};
    z_->out_ready = true;
  }
  auto start = out.size();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  z.avail_in = static_cast<uInt>(payload.size());
  do {
    auto used = out.size();
    auto room = std::max<size_t>(64, payload.size() / 2 + 16);
    out.resize(used + room);
    z.next_out = reinterpret_cast<Bytef*>(&out[used]);
    z.avail_out = static_cast<uInt>(room);
    deflate(&z, Z_SYNC_FLUSH);  // cannot fail with valid arguments and room to write
    out.resize(used + room - z.avail_out);
  } while (z.avail_out == 0);
  // A sync flush ends with an empty stored block, 00 00 FF FF, which the receiver adds back.
  if (out.size() - start >= 4)
    out.resize(out.size() - 4);
  if (agreed_.server_no_context_takeover)
    deflateReset(&z);
}

deflate_codec::inflate_status deflate_codec::decompress(std::string_view in, size_t max_bytes,
                                                        std::string& out) {
  auto& z = z_->in;
  if (!z_->in_ready) {
    if (inflateInit2(&z, -15) != Z_OK)
      throw std::bad_alloc{};
    z_->in_ready = true;
  }
  static const char tail[4] = {0, 0, static_cast<char>(0xff), static_cast<char>(0xff)};
  for (std::string_view part : {in, std::string_view{tail, 4}}) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
    z.avail_in = static_cast<uInt>(part.size());
    char buf[16384];
    for (;;) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      auto rc = inflate(&z, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
        return inflate_status::corrupt;
      out.append(buf, sizeof buf - z.avail_out);
      if (out.size() > max_bytes)
        return inflate_status::too_big;
      if (rc == Z_STREAM_END)
        inflateReset(&z);  // a final block ended the client's stream; the next one starts anew
      if (z.avail_out != 0 && (z.avail_in == 0 || rc == Z_BUF_ERROR))
        break;
    }
  }
  return inflate_status::ok;
}

} // namespace parley::net::ws
