#include "net/http_reader.hpp"

#include "net/http_text.hpp"

#include <array>

namespace parley::net {

namespace {

constexpr std::string_view crlf = "\r\n";

// RFC 9110 `tchar`: the characters of methods and header names.
constexpr std::array<bool, 256> tchars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c)
    t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    t[c] = t[c - 'a' + 'A'] = true;
  for (char c : std::string_view{"!#$%&'*+-.^_`|~"})
    t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool is_token(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!tchars[static_cast<unsigned char>(c)])
      return false;
  return true;
}

// A target's characters: visible ASCII and, as Beast allows, bytes of 0x80 and above.
bool is_target(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f)
      return false;
  }
  return !s.empty();
}

// A field value (already trimmed): visible ASCII, spaces, tabs, obs-text; never CR, LF or NUL.
bool is_field_value(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f)
      return false;
  }
  return true;
}

// A Content-Length value: digits only, no sign, no list (Beast refuses "5, 5" too).
bool parse_length(std::string_view s, size_t& out) {
  if (s.empty() || s.size() > 18)
    return false;
  size_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  out = n;
  return true;
}

} // namespace

bool http_reader::takes(std::string_view method, std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  if (method == "GET" || method == "HEAD")
    return path.size() > 1 && path.front() == '/' && path.find('/', 1) == std::string_view::npos;
  return method == "POST" && path == "/api/v1/ratelimit/check";
}

http_reader::outcome http_reader::read(std::string_view data, lean_request& out) const {
  // The request line: enough of it to know whether the request is ours. Anything irregular in
  // its shape is Beast's to judge (and answer 400), as it was before this reader.
  auto head_window = data.substr(0, limits_.head_bytes);
  auto line_end = head_window.find(crlf);
  if (line_end == std::string_view::npos)
    return data.size() >= limits_.head_bytes ? outcome::head_too_large : outcome::need_more;
  auto line = data.substr(0, line_end);
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos)
    return outcome::fallback;
  auto method = line.substr(0, sp1);
  auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto version = line.substr(sp2 + 1);
  if (!takes(method, target))
    return outcome::fallback;
  // Other versions (HTTP/2.0 on an HTTP/1 connection, HTTP/0.9 forms) are Beast's to judge.
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return outcome::fallback;
  out = lean_request{};
  if (!is_target(target)) {
    out.problem = "bad request target";
    return outcome::bad_request;
  }

  // The header fields, once the whole head has arrived (its end may be the request line's own
  // CRLF followed by the blank line).
  auto head_end = head_window.find("\r\n\r\n", line_end);
  if (head_end == std::string_view::npos)
    return data.size() >= limits_.head_bytes ? outcome::head_too_large : outcome::need_more;
  auto body_start = head_end + 4;
  out.method = method;
  out.target = target;
  out.version = version == "HTTP/1.1" ? 11 : 10;
  bool close = false;
  bool keep_alive = false;
  bool has_length = false;
  size_t length = 0;
  for (auto pos = line_end + 2; pos < body_start - 2;) {
    auto eol = data.find(crlf, pos);
    auto field = data.substr(pos, eol - pos);
    pos = eol + 2;
    // A folded continuation line (obsolete, RFC 9112 5.2): Beast's to judge.
    if (field.front() == ' ' || field.front() == '\t')
      return outcome::fallback;
    auto colon = field.find(':');
    if (colon == std::string_view::npos || !is_token(field.substr(0, colon))) {
      out.problem = "bad header field";
      return outcome::bad_request;
    }
    auto name = field.substr(0, colon);
    auto value = trim_ows(field.substr(colon + 1));
    if (!is_field_value(value)) {
      out.problem = "bad header value";
      return outcome::bad_request;
    }
    // Bodies in other framings, 100-continue and protocol upgrades keep Beast's handling.
    if (iequals_ascii(name, "transfer-encoding") || iequals_ascii(name, "expect")
        || iequals_ascii(name, "upgrade"))
      return outcome::fallback;
    if (iequals_ascii(name, "content-length")) {
      if (has_length || !parse_length(value, length)) {
        out.problem = "bad Content-Length";
        return outcome::bad_request;
      }
      has_length = true;
    } else if (iequals_ascii(name, "connection")) {
      // A comma-separated list of options; only close and keep-alive matter here.
      for (auto rest = value; !rest.empty();) {
        auto comma = rest.find(',');
        auto option = trim_ows(rest.substr(0, comma));
        close = close || iequals_ascii(option, "close");
        keep_alive = keep_alive || iequals_ascii(option, "keep-alive");
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    }
    std::string lower{name};
    for (auto& c : lower)
      c = ascii_lower(c);
    out.headers.emplace_back(std::move(lower), std::string{value});
  }
  out.keep_alive = !close && (out.version == 11 || keep_alive);

  if (length > limits_.body_bytes)
    return outcome::body_too_large;
  if (data.size() - body_start < length)
    return outcome::need_more;
  out.body = data.substr(body_start, length);
  out.size = body_start + length;
  return outcome::done;
}

} // namespace parley::net
