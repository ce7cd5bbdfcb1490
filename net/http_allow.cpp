#include "net/http_allow.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace parley::net {

namespace {

using boost::asio::ip::address;
using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

bool in_v4(uint32_t a, uint32_t net, int prefix) {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (a & mask) == (net & mask);
}

constexpr uint32_t v4(int a, int b, int c, int d) {
  return (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | uint32_t(d);
}

const char* v4_kind(uint32_t a) {
  struct range {
    uint32_t net;
    int prefix;
    const char* kind;
  };
  static const range ranges[] = {
    {v4(0, 0, 0, 0), 8, "unspecified (0.0.0.0/8)"},
    {v4(10, 0, 0, 0), 8, "private"},
    {v4(100, 64, 0, 0), 10, "shared (CGNAT)"},
    {v4(127, 0, 0, 0), 8, "loopback"},
    {v4(169, 254, 0, 0), 16, "link-local (cloud metadata)"},
    {v4(172, 16, 0, 0), 12, "private"},
    {v4(192, 0, 0, 0), 24, "reserved"},
    {v4(192, 0, 2, 0), 24, "documentation"},
    {v4(192, 88, 99, 0), 24, "reserved"},
    {v4(192, 168, 0, 0), 16, "private"},
    {v4(198, 18, 0, 0), 15, "benchmarking"},
    {v4(198, 51, 100, 0), 24, "documentation"},
    {v4(203, 0, 113, 0), 24, "documentation"},
    {v4(224, 0, 0, 0), 4, "multicast"},
    {v4(240, 0, 0, 0), 4, "reserved"},
  };
  for (auto& r : ranges)
    if (in_v4(a, r.net, r.prefix))
      return r.kind;
  return nullptr;
}

uint32_t v4_at(const address_v6::bytes_type& b, size_t at) {
  return (uint32_t(b[at]) << 24) | (uint32_t(b[at + 1]) << 16) | (uint32_t(b[at + 2]) << 8)
         | uint32_t(b[at + 3]);
}

bool zeros(const address_v6::bytes_type& b, size_t from, size_t to) {
  return std::all_of(b.begin() + from, b.begin() + to, [](unsigned char c) { return c == 0; });
}

// The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any.
std::optional<uint32_t> embedded_v4(const address_v6& a) {
  auto b = a.to_bytes();
  if (zeros(b, 0, 10) && b[10] == 0xff && b[11] == 0xff)
    return v4_at(b, 12);  // ::ffff:a.b.c.d
  if (zeros(b, 0, 12) && !zeros(b, 12, 16) && !(zeros(b, 12, 15) && b[15] == 1))
    return v4_at(b, 12);  // ::a.b.c.d (deprecated compatible form)
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zeros(b, 4, 12))
    return v4_at(b, 12);  // 64:ff9b::/96 NAT64
  if (b[0] == 0x20 && b[1] == 0x02)
    return v4_at(b, 2);  // 2002::/16 6to4
  return std::nullopt;
}

const char* v6_kind(const address_v6& a) {
  if (auto inner = embedded_v4(a)) {
    if (auto kind = v4_kind(*inner))
      return kind;
    return nullptr;
  }
  auto b = a.to_bytes();
  if (a.is_unspecified())
    return "unspecified (::)";
  if (a.is_loopback())
    return "loopback";
  if ((b[0] & 0xfe) == 0xfc)
    return "private (unique local)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
    return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
    return "site-local";
  if (b[0] == 0xff)
    return "multicast";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
    return "documentation";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
    return "Teredo";
  if (b[0] == 0x01 && zeros(b, 1, 8))
    return "discard";
  return nullptr;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!s.empty() && s.back() == '.')
    s.pop_back();
  return s;
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-')
    return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

bool prefix_match(const unsigned char* a, const unsigned char* net, int prefix) {
  int full = prefix / 8;
  if (!std::equal(a, a + full, net))
    return false;
  int rest = prefix % 8;
  if (rest == 0)
    return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (net[full] & mask);
}

} // namespace

const char* special_address_kind(const address& a) {
  if (a.is_v4())
    return v4_kind(a.to_v4().to_uint());
  return v6_kind(a.to_v6());
}

std::optional<http_allow_list> http_allow_list::parse(const std::vector<std::string>& entries,
                                                      std::string& error) {
  http_allow_list out;
  for (auto& raw : entries) {
    auto entry = lower(raw);
    auto bad = [&](const std::string& why) {
      error = "entry \"" + raw + "\": " + why;
      return std::nullopt;
    };
    if (entry.empty())
      return bad("empty");
    if (entry == "*") {
      out.any_name_ = true;
      continue;
    }
    auto slash = entry.find('/');
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(entry.substr(0, slash), ec);
    if (!ec) {
      network n{addr.is_v4(), {}, addr.is_v4() ? 32 : 128};
      if (addr.is_v4()) {
        auto b = addr.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), n.bytes.begin());
      } else {
        auto b = addr.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), n.bytes.begin());
      }
      if (slash != std::string::npos) {
        auto len = entry.substr(slash + 1);
        if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), ::isdigit)
            || std::stoi(len) > n.prefix)
          return bad("bad prefix length (0.." + std::to_string(n.prefix) + ")");
        n.prefix = std::stoi(len);
      }
      out.nets_.push_back(n);
      continue;
    }
    if (slash != std::string::npos)
      return bad("not an IP address or CIDR");
    if (entry.rfind("*.", 0) == 0) {
      if (!valid_name(entry.substr(2)))
        return bad("not a host name pattern");
      out.names_.push_back(entry.substr(1));  // ".example.com"
      continue;
    }
    if (!valid_name(entry))
      return bad("not a host name, IP address or CIDR");
    out.names_.push_back(entry);
  }
  return out;
}

bool http_allow_list::covers(const address& addr) const {
  std::optional<uint32_t> as_v4;
  if (addr.is_v4())
    as_v4 = addr.to_v4().to_uint();
  else if (addr.to_v6().is_v4_mapped())
    as_v4 = embedded_v4(addr.to_v6());
  for (auto& n : nets_) {
    if (n.v4) {
      if (!as_v4)
        continue;
      unsigned char b[4] = {static_cast<unsigned char>(*as_v4 >> 24),
                            static_cast<unsigned char>(*as_v4 >> 16),
                            static_cast<unsigned char>(*as_v4 >> 8),
                            static_cast<unsigned char>(*as_v4)};
      if (prefix_match(b, n.bytes.data(), n.prefix))
        return true;
    } else if (addr.is_v6()) {
      auto b = addr.to_v6().to_bytes();
      if (prefix_match(b.data(), n.bytes.data(), n.prefix))
        return true;
    }
  }
  return false;
}

bool http_allow_list::names(const std::string& host) const {
  if (any_name_)
    return true;
  auto h = lower(host);
  for (auto& n : names_) {
    if (n.front() == '.') {
      if (h.size() > n.size() && h.compare(h.size() - n.size(), n.size(), n) == 0)
        return true;
    } else if (h == n) {
      return true;
    }
  }
  return false;
}

std::string http_allow_list::refusal(const std::string& host, const address& addr) const {
  if (empty())
    return "http tasks are disabled: tasks.http_allow is empty";
  if (covers(addr))
    return {};
  if (auto kind = special_address_kind(addr))
    return "destination " + host + " resolves to " + addr.to_string() + ", a " + kind
           + " address not listed in tasks.http_allow";
  if (names(host))
    return {};
  return "destination " + host + " is not allowed by tasks.http_allow";
}

} // namespace parley::net
