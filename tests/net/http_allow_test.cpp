// The http task's destination rules: which addresses are special, and what tasks.http_allow
// lets through.
#include "net/http_allow.hpp"

#include <catch2/catch.hpp>

using namespace parley::net;

namespace {

boost::asio::ip::address ip(const std::string& text) {
  return boost::asio::ip::make_address(text);
}

std::string kind(const std::string& text) {
  auto k = special_address_kind(ip(text));
  return k ? k : "public";
}

http_allow_list allow(const std::vector<std::string>& entries) {
  std::string error;
  auto list = http_allow_list::parse(entries, error);
  INFO(error);
  REQUIRE(list);
  return *list;
}

} // namespace

TEST_CASE("inner IPv4 addresses are special: loopback, private, link-local, CGNAT, multicast") {
  CHECK(kind("127.0.0.1") == "loopback");
  CHECK(kind("127.255.255.254") == "loopback");
  CHECK(kind("10.0.0.1") == "private");
  CHECK(kind("172.16.0.1") == "private");
  CHECK(kind("172.31.255.255") == "private");
  CHECK(kind("172.32.0.1") == "public");
  CHECK(kind("192.168.1.1") == "private");
  CHECK(kind("169.254.169.254").find("link-local") == 0);  // cloud metadata
  CHECK(kind("100.64.0.1") == "shared (CGNAT)");
  CHECK(kind("100.100.100.200") == "shared (CGNAT)");   // another cloud's metadata
  CHECK(kind("0.0.0.0").find("unspecified") == 0);
  CHECK(kind("0.1.2.3").find("unspecified") == 0);
  CHECK(kind("224.0.0.1") == "multicast");
  CHECK(kind("239.255.255.250") == "multicast");
  CHECK(kind("255.255.255.255") == "reserved");
  CHECK(kind("198.18.0.1") == "benchmarking");
  CHECK(kind("192.0.2.1") == "documentation");
  CHECK(kind("8.8.8.8") == "public");
  CHECK(kind("1.1.1.1") == "public");
  CHECK(kind("100.63.255.255") == "public");
  CHECK(kind("100.128.0.0") == "public");
}

TEST_CASE("inner IPv6 addresses are special, and IPv4 inside IPv6 is judged as IPv4") {
  CHECK(kind("::1") == "loopback");
  CHECK(kind("::").find("unspecified") == 0);
  CHECK(kind("fc00::1").find("private") == 0);
  CHECK(kind("fd00:ec2::254").find("private") == 0);  // a cloud's IPv6 metadata
  CHECK(kind("fe80::1") == "link-local");
  CHECK(kind("febf::1") == "link-local");
  CHECK(kind("fec0::1") == "site-local");
  CHECK(kind("ff02::1") == "multicast");
  CHECK(kind("2001:db8::1") == "documentation");
  CHECK(kind("2606:4700:4700::1111") == "public");
  // IPv4-mapped, compatible, NAT64 and 6to4 forms carry their IPv4 address's kind.
  CHECK(kind("::ffff:127.0.0.1") == "loopback");
  CHECK(kind("::ffff:169.254.169.254").find("link-local") == 0);
  CHECK(kind("::ffff:10.1.2.3") == "private");
  CHECK(kind("::ffff:8.8.8.8") == "public");
  CHECK(kind("::127.0.0.1") == "loopback");
  CHECK(kind("64:ff9b::a9fe:a9fe").find("link-local") == 0);  // 169.254.169.254
  CHECK(kind("2002:7f00:1::1") == "loopback");                  // 6to4 of 127.0.0.1
  CHECK(kind("2002:808:808::1") == "public");
}

TEST_CASE("an empty allow list refuses everything") {
  auto list = allow({});
  CHECK(list.empty());
  CHECK(list.refusal("example.com", ip("93.184.216.34")).find("tasks.http_allow is empty")
        != std::string::npos);
}

TEST_CASE("host entries admit names with public addresses, and inner ones need an address entry") {
  auto list = allow({"hooks.example.com", "*.example.org"});
  CHECK(list.refusal("hooks.example.com", ip("93.184.216.34")).empty());
  CHECK(list.refusal("HOOKS.Example.COM.", ip("93.184.216.34")).empty());
  CHECK(list.refusal("a.b.example.org", ip("93.184.216.34")).empty());
  CHECK_FALSE(list.refusal("example.org", ip("93.184.216.34")).empty());  // not a subdomain
  CHECK_FALSE(list.refusal("evil.com", ip("93.184.216.34")).empty());
  CHECK_FALSE(list.refusal("hooks.example.com.evil.com", ip("93.184.216.34")).empty());
  // A listed name that resolves inside (DNS rebinding) is still refused.
  auto why = list.refusal("hooks.example.com", ip("127.0.0.1"));
  CHECK(why.find("loopback") != std::string::npos);
  CHECK_FALSE(list.refusal("hooks.example.com", ip("::ffff:10.0.0.5")).empty());
  CHECK_FALSE(list.refusal("a.example.org", ip("169.254.169.254")).empty());
}

TEST_CASE("address and CIDR entries admit exactly what they cover, inner addresses included") {
  auto list = allow({"127.0.0.1", "10.20.0.0/16", "fd00:1::/32"});
  CHECK(list.refusal("127.0.0.1", ip("127.0.0.1")).empty());
  CHECK(list.refusal("localhost", ip("127.0.0.1")).empty());  // the address is what counts
  CHECK(list.refusal("127.0.0.1", ip("::ffff:127.0.0.1")).empty());
  CHECK_FALSE(list.refusal("127.0.0.2", ip("127.0.0.2")).empty());
  CHECK_FALSE(list.refusal("::1", ip("::1")).empty());
  CHECK(list.refusal("svc", ip("10.20.255.1")).empty());
  CHECK_FALSE(list.refusal("svc", ip("10.21.0.1")).empty());
  CHECK(list.refusal("svc6", ip("fd00:1:ffff::1")).empty());
  CHECK_FALSE(list.refusal("svc6", ip("fd00:2::1")).empty());
  CHECK_FALSE(list.refusal("example.com", ip("93.184.216.34")).empty());  // no name entry
  CHECK(allow({"8.8.8.0/24"}).refusal("dns.google", ip("8.8.8.8")).empty());
}

TEST_CASE("a wildcard entry admits any host name with a public address, never an inner one") {
  auto list = allow({"*"});
  CHECK(list.refusal("anything.example", ip("93.184.216.34")).empty());
  CHECK(list.refusal("93.184.216.34", ip("93.184.216.34")).empty());
  CHECK_FALSE(list.refusal("localhost", ip("127.0.0.1")).empty());
  CHECK_FALSE(list.refusal("metadata", ip("169.254.169.254")).empty());
  CHECK_FALSE(list.refusal("x", ip("fe80::1")).empty());
}

TEST_CASE("malformed allow entries are refused with the entry named") {
  std::string error;
  for (auto bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "http://x", "a b", "host/24",
                   "-x.com"}) {
    INFO(bad);
    CHECK_FALSE(http_allow_list::parse({bad}, error));
    CHECK(error.find("entry \"" + std::string{bad} + "\"") == 0);
  }
}
