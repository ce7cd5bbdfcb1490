// Where the built-in `http` task may send requests (tasks.http_allow, PROTOCOL.md Tasks): a
// destination must match the list, and addresses that reach inside the network (loopback,
// private, link-local and cloud metadata, CGNAT, multicast, reserved; IPv4 embedded in IPv6
// included) are refused after name resolution unless an address or CIDR entry covers them.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace parley::net {

// What kind of special address `a` is ("loopback", "private", "link-local", ...); nullptr for
// an ordinary public address. IPv4-mapped, -compatible, NAT64 and 6to4 IPv6 addresses are
// judged by the IPv4 address they carry.
const char* special_address_kind(const boost::asio::ip::address& a);

class http_allow_list {
public:
  // Entries: "*" (any host name), "host.example.com", "*.example.com" (its subdomains), an IP
  // address or a CIDR ("10.1.0.0/16", "fd00::/8"). Nullopt and `error` for a malformed entry.
  static std::optional<http_allow_list> parse(const std::vector<std::string>& entries,
                                              std::string& error);

  bool empty() const { return names_.empty() && any_name_ == false && nets_.empty(); }

  // Why a request to `host` (as written in the URL), resolved to `addr`, is refused; empty when
  // it is allowed.
  std::string refusal(const std::string& host, const boost::asio::ip::address& addr) const;

private:
  struct network {
    bool v4;
    std::array<unsigned char, 16> bytes;
    int prefix;
  };

  bool covers(const boost::asio::ip::address& addr) const;
  bool names(const std::string& host) const;

  bool any_name_ = false;
  std::vector<std::string> names_;     // lower case; "*.x" kept as ".x"
  std::vector<network> nets_;
};

} // namespace parley::net
