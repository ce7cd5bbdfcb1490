#include "cluster/link/port_probe.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace parley::cluster {

std::pair<std::string, uint16_t> split_host_port(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return {address, 0};
  uint16_t port = 0;
  auto* first = address.data() + colon + 1;
  auto* last = address.data() + address.size();
  auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc{} || end != last)
    return {address, 0};
  return {address.substr(0, colon), port};
}

namespace {

bool connects_within(const addrinfo& ai, std::chrono::milliseconds timeout) {
  int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0)
    return false;
  bool ok = false;
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof(err);
      ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  ::close(fd);
  return ok;
}

} // namespace

bool port_answers(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr)
    return false;
  bool ok = false;
  for (auto* ai = found; ai != nullptr && !ok; ai = ai->ai_next)
    ok = connects_within(*ai, timeout);
  ::freeaddrinfo(found);
  return ok;
}

} // namespace parley::cluster
