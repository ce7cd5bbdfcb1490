#include "support/netns_lab.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace parley::test {

namespace {

// Subnet indexes <k> (10.211.<k>.0/24, 10.212.<k>.0/24) tried for a new lab.
constexpr uint32_t subnets = 250;
// Taken while a lab picks its subnet and builds its bridge, so two test processes starting at
// once do not pick the same one.
constexpr const char* lock_path = "/tmp/parley-netns-lab.lock";

struct command_result {
  int status = -1;
  std::string output;
};

// Runs `command` through the shell (every name in it is the lab's own: no quoting needed).
command_result run(const std::string& command) {
  command_result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr)
    return r;
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
    r.output.append(buffer, n);
  r.status = ::pclose(pipe);
  return r;
}

void must(const std::string& command) {
  auto r = run(command);
  if (r.status != 0)
    throw std::runtime_error("netns_lab: `" + command + "` failed: " + r.output);
}

bool alive(long pid) {
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

// Removes the namespaces and links of labs whose process is gone (a crashed or killed run never
// ran its destructor). Interfaces inside a namespace go with it; a veth's peer with it.
void sweep_dead_labs() {
  static const std::regex ns_name{R"(^(pf(\d+)n\d+)\b)"};
  static const std::regex link_name{R"(^\d+: (pf(\d+)[bck]\d*)[@:])"};
  std::istringstream namespaces{run("ip netns list").output};
  for (std::string line; std::getline(namespaces, line);) {
    std::smatch m;
    if (std::regex_search(line, m, ns_name) && !alive(std::stol(m[2])))
      run("ip netns del " + m[1].str());
  }
  std::istringstream links{run("ip -o link show").output};
  for (std::string line; std::getline(links, line);) {
    std::smatch m;
    if (std::regex_search(line, m, link_name) && !alive(std::stol(m[2])))
      run("ip link del " + m[1].str());
  }
}

// Holds an exclusive flock on lock_path for its lifetime.
class lab_lock {
public:
  lab_lock() : fd_(::open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) {
    if (fd_ >= 0)
      ::flock(fd_, LOCK_EX);
  }
  ~lab_lock() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  lab_lock(const lab_lock&) = delete;
  lab_lock& operator=(const lab_lock&) = delete;

private:
  int fd_;
};

} // namespace

netns_lab::netns_lab(uint32_t nodes) : prefix_("pf" + std::to_string(::getpid())), nodes_(nodes) {
  if (::geteuid() != 0)
    throw std::runtime_error("netns_lab: the network fault tests need root (CAP_NET_ADMIN) to "
                             "create network namespaces; run them as root (CI does)");
  if (auto r = run("ip netns list"); r.status != 0)
    throw std::runtime_error("netns_lab: `ip netns` is not available (iproute2): " + r.output);
  if (nodes_ == 0 || nodes_ > 60)  // 4 addresses per client link in one /24
    throw std::runtime_error("netns_lab: 1 to 60 nodes");
  lab_lock lock;
  sweep_dead_labs();
  try {
    build();
  } catch (...) {
    tear_down();
    throw;
  }
}

netns_lab::~netns_lab() {
  tear_down();
}

void netns_lab::build() {
  std::set<std::string> used;
  {
    // Either network of a subnet index in use anywhere in the root namespace.
    static const std::regex lab_net{R"(inet 10\.21[12]\.(\d+)\.\d+/)"};
    auto addresses = run("ip -o -4 addr show").output;
    for (std::sregex_iterator it{addresses.begin(), addresses.end(), lab_net}, end; it != end;
         ++it)
      used.insert((*it)[1].str());
  }
  subnet_ = subnets;
  for (uint32_t k = 0; k < subnets && subnet_ == subnets; ++k)
    if (used.count(std::to_string(k)) == 0)
      subnet_ = k;
  if (subnet_ == subnets)
    throw std::runtime_error("netns_lab: no free 10.211.<k>.0/24 subnet");

  auto bridge = prefix_ + "b";
  must("ip link add " + bridge + " type bridge");
  must("ip addr add " + bridge_address() + "/24 dev " + bridge);
  must("ip link set " + bridge + " up");
  for (uint32_t i = 0; i < nodes_; ++i) {
    auto n = ns(i);
    must("ip netns add " + n);
    must("ip -n " + n + " link set lo up");
    // Cluster link: the root side on the bridge, eth0 inside.
    must("ip link add " + bridge_port(i) + " type veth peer name eth0 netns " + n);
    must("ip link set " + bridge_port(i) + " master " + bridge);
    must("ip link set " + bridge_port(i) + " up");
    must("ip -n " + n + " addr add " + cluster_address(i) + "/24 dev eth0");
    must("ip -n " + n + " link set eth0 up");
    // Client link: a /30 straight to the root namespace.
    auto base = "10.212." + std::to_string(subnet_) + ".";
    must("ip link add " + client_port(i) + " type veth peer name cl0 netns " + n);
    must("ip addr add " + base + std::to_string(4 * i + 1) + "/30 dev " + client_port(i));
    must("ip link set " + client_port(i) + " up");
    must("ip -n " + n + " addr add " + client_address(i) + "/30 dev cl0");
    must("ip -n " + n + " link set cl0 up");
  }
}

void netns_lab::tear_down() noexcept {
  // The veths first: deleting one end deletes the pair at once, while a deleted namespace
  // takes its interfaces along only when the kernel gets to it, a moment later, and a new lab
  // must not meet their addresses.
  for (uint32_t i = 0; i < nodes_; ++i) {
    run("ip link del " + bridge_port(i));
    run("ip link del " + client_port(i));
    run("ip netns del " + ns(i));
  }
  run("ip link del " + prefix_ + "b");
}

std::string netns_lab::bridge_address() const {
  return "10.211." + std::to_string(subnet_) + ".1";
}

std::string netns_lab::cluster_address(uint32_t i) const {
  return "10.211." + std::to_string(subnet_) + "." + std::to_string(10 + i);
}

std::string netns_lab::client_address(uint32_t i) const {
  return "10.212." + std::to_string(subnet_) + "." + std::to_string(4 * i + 2);
}

std::vector<std::string> netns_lab::launcher(uint32_t i) const {
  return {"ip", "netns", "exec", ns(i)};
}

void netns_lab::cut(uint32_t i) {
  must("ip link set " + bridge_port(i) + " down");
}

void netns_lab::heal(uint32_t i) {
  must("ip link set " + bridge_port(i) + " up");
}

void netns_lab::blackhole(uint32_t i, const std::string& address) {
  must("ip -n " + ns(i) + " route add blackhole " + address + "/32");
}

void netns_lab::unblackhole(uint32_t i, const std::string& address) {
  must("ip -n " + ns(i) + " route del blackhole " + address + "/32");
}

std::string netns_lab::ns(uint32_t i) const {
  return prefix_ + "n" + std::to_string(i + 1);
}

std::string netns_lab::bridge_port(uint32_t i) const {
  return prefix_ + "c" + std::to_string(i + 1);
}

std::string netns_lab::client_port(uint32_t i) const {
  return prefix_ + "k" + std::to_string(i + 1);
}

} // namespace parley::test
