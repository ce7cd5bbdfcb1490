#include "net/client/url.hpp"

#include <cctype>

namespace parley::net::client {

namespace {

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  auto n = std::stoi(std::string{p});
  return n >= 1 && n <= 65535;
}

} // namespace

bool parse_http_url(std::string_view text, http_url& out, std::string& error) {
  auto refuse = [&](const char* why) {
    error = std::string{why} + ": " + std::string{text};
    return false;
  };
  constexpr std::string_view scheme = "http://";
  if (text.substr(0, 8) == "https://")
    return refuse("https is not supported (plain http only)");
  if (text.substr(0, scheme.size()) != scheme)
    return refuse("not an http:// URL");
  for (unsigned char c : text)
    if (c <= 0x20 || c == 0x7f)
      return refuse("a space or control character in URL");
  auto rest = text.substr(scheme.size());
  auto end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, end);
  auto path = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  path = path.substr(0, path.find('#'));
  if (authority.find('@') != std::string_view::npos)
    return refuse("user info in URL");
  http_url url;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return refuse("bad IPv6 address in URL");
    url.host = std::string{authority.substr(1, close - 1)};
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':')
      return refuse("bad IPv6 address in URL");
    has_port = !after.empty();
    port = has_port ? after.substr(1) : after;
  } else {
    auto colon = authority.find(':');
    url.host = std::string{authority.substr(0, colon)};
    has_port = colon != std::string_view::npos;
    if (has_port)
      port = authority.substr(colon + 1);
  }
  if (url.host.empty())
    return refuse("no host in URL");
  if (has_port) {
    if (!valid_port(port))
      return refuse("bad port in URL");
    url.port = std::string{port};
    url.explicit_port = true;
  }
  if (!path.empty() && path.front() != '/')
    url.path = "/" + std::string{path};  // "http://h?q" asks for "/?q"
  else
    url.path = std::string{path};
  out = std::move(url);
  return true;
}

std::string request_target(const http_url& url, std::string_view target) {
  if (target.empty())
    return url.path.empty() ? "/" : url.path;
  auto base = std::string_view{url.path};
  while (!base.empty() && base.back() == '/')
    base.remove_suffix(1);
  return std::string{base} + std::string{target};
}

std::string host_header(const http_url& url) {
  auto host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return url.explicit_port ? host + ":" + url.port : host;
}

std::string url_encode_segment(std::string_view segment) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

} // namespace parley::net::client
