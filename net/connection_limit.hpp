// Open connections per client address (server.max_connections_per_ip), so that one address
// cannot hold every file descriptor of the node. A connection holds a ticket from accept until
// its socket closes, through the upgrade from HTTP to WebSocket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace parley::net {

class connection_limit {
public:
  // An IPv4 address as its IPv4-mapped IPv6 form, so both families share one key type.
  using address_key = std::array<uint8_t, 16>;

  // Held by a connection; gives its slot back when destroyed. Move-only.
  class ticket {
  public:
    ticket() = default;
    ticket(ticket&& other) noexcept : owner_(other.owner_), key_(other.key_) {
      other.owner_ = nullptr;
    }
    ticket& operator=(ticket&& other) noexcept {
      if (this != &other) {
        release();
        owner_ = other.owner_;
        key_ = other.key_;
        other.owner_ = nullptr;
      }
      return *this;
    }
    ticket(const ticket&) = delete;
    ticket& operator=(const ticket&) = delete;
    ~ticket() { release(); }

  private:
    friend class connection_limit;
    ticket(connection_limit* owner, const address_key& key) : owner_(owner), key_(key) {}
    void release();
    connection_limit* owner_ = nullptr;
    address_key key_{};
  };

  // `max_per_address` 0 means no limit (tickets are still counted for the metric).
  explicit connection_limit(size_t max_per_address) : max_(max_per_address) {}

  // A ticket for a new connection from `key`; false when that address is at its limit.
  bool try_acquire(const address_key& key, ticket& out);

  // Connections open from `key` (tests, admin views).
  size_t open_from(const address_key& key) const;

private:
  struct key_hash {
    size_t operator()(const address_key& k) const noexcept;
  };
  void release(const address_key& key);

  size_t max_;
  mutable std::mutex mtx_;
  std::unordered_map<address_key, uint32_t, key_hash> open_;
};

} // namespace parley::net
