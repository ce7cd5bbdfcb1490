// Whether a peer's port accepts a TCP connection, asked with a deadline. CAF 0.17's
// remote_actor blocks for as long as the kernel keeps retrying a connect to a host that does not
// answer (minutes): the connector probes first and calls it only for a port that answered.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace parley::cluster {

// "host:port" -> {host, port}; port 0 when the address is malformed.
std::pair<std::string, uint16_t> split_host_port(const std::string& address);

// Connects without blocking and waits at most `timeout` for the handshake; closes at once.
bool port_answers(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

} // namespace parley::cluster
