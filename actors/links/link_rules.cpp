#include "actors/links/link_rules.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace parley::links {

namespace {

constexpr std::string_view base62 =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

bool contains_icase(std::string_view hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         }) != hay.end();
}

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

fault bad(std::string message) {
  return make_fault(errc::bad_request, std::move(message));
}

// The authority's host: a DNS name or IPv4 of [A-Za-z0-9.-], or a bracketed IPv6 literal,
// optionally followed by :port.
bool valid_authority(std::string_view authority) {
  if (authority.empty() || authority.find('@') != std::string_view::npos)
    return false;  // no userinfo: "https://bank.com@evil.example" is a phishing classic
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos || close < 3)
      return false;
    for (char c : authority.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return false;
    host = authority.substr(0, close + 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return false;
      port = rest.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty() || host.front() == '.' || host.front() == '-')
      return false;
    for (char c : host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-')
        return false;
  }
  if (port.size() > 5)
    return false;
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

} // namespace

fault check_long_url(std::string_view url) {
  if (url.empty())
    return bad("long_url is required");
  if (url.size() > max_long_url_bytes)
    return bad("long_url is longer than 2048 bytes");
  for (unsigned char c : url) {
    if (c < 0x21 || c == 0x7f)
      return bad("long_url must not contain spaces or control characters");
    if (c >= 0x80)
      return bad("long_url must be ASCII: percent-encode other characters");
  }
  std::string_view rest;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return bad("long_url must be an absolute http or https URL");
  auto scheme = lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https")
    return bad("long_url must use http or https, not \"" + scheme + "\"");
  rest = url.substr(scheme_end + 3);
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty())
    return bad("long_url has no host");
  if (!valid_authority(authority))
    return bad("long_url has an invalid host");
  return {};
}

fault check_alias(std::string_view alias, const std::set<std::string>& reserved) {
  if (alias.size() < 3 || alias.size() > 32
      || !std::all_of(alias.begin(), alias.end(), key_char))
    return bad("custom_alias must match [A-Za-z0-9_-]{3,32}");
  auto folded = lower(alias);
  for (auto& r : reserved)
    if (lower(r) == folded)
      return bad("custom_alias \"" + std::string{alias} + "\" is a reserved path");
  return {};
}

bool plausible_key(std::string_view key) {
  return key.size() >= 3 && key.size() <= 32 && std::all_of(key.begin(), key.end(), key_char);
}

std::string random_key() {
  // Rejection sampling: bytes >= 248 (= 4 * 62) are dropped so every character is uniform.
  std::string key;
  key.reserve(generated_key_length);
  std::array<unsigned char, 32> bytes;
  while (key.size() < generated_key_length) {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
      throw std::runtime_error("RAND_bytes failed");
    for (auto b : bytes) {
      if (b >= 248)
        continue;
      key.push_back(base62[b % 62]);
      if (key.size() == generated_key_length)
        break;
    }
  }
  return key;
}

device_class classify_user_agent(std::string_view ua) {
  if (ua.empty())
    return device_class::other;
  for (auto needle : {"bot", "crawler", "spider", "slurp", "curl/", "wget/", "python-requests",
                      "httpclient", "facebookexternalhit", "preview", "headless"})
    if (contains_icase(ua, needle))
      return device_class::bot;
  for (auto needle : {"mobile", "android", "iphone", "ipad", "ipod", "windows phone",
                      "opera mini", "blackberry"})
    if (contains_icase(ua, needle))
      return device_class::mobile;
  for (auto needle : {"windows nt", "macintosh", "x11", "linux", "cros"})
    if (contains_icase(ua, needle))
      return device_class::desktop;
  return device_class::other;
}

std::string referrer_host(std::string_view referer) {
  auto scheme_end = referer.find("://");
  if (scheme_end == std::string_view::npos)
    return {};
  auto rest = referer.substr(scheme_end + 3);
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos)
    authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() != '[')
    authority = authority.substr(0, authority.find(':'));
  if (authority.empty() || authority.size() > 253)
    return {};
  for (char c : authority)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) >= 0x7f)
      return {};
  return lower(authority);
}

} // namespace parley::links
