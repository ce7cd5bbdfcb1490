#include "net/connection_limit.hpp"

#include <cstring>

namespace parley::net {

void connection_limit::ticket::release() {
  if (owner_)
    owner_->release(key_);
  owner_ = nullptr;
}

size_t connection_limit::key_hash::operator()(const address_key& k) const noexcept {
  uint64_t a, b;
  std::memcpy(&a, k.data(), 8);
  std::memcpy(&b, k.data() + 8, 8);
  return static_cast<size_t>(a * 0x9E3779B97F4A7C15ull ^ b);
}

bool connection_limit::try_acquire(const address_key& key, ticket& out) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& n = open_[key];
  if (max_ != 0 && n >= max_)
    return false;
  ++n;
  out = ticket{this, key};
  return true;
}

size_t connection_limit::open_from(const address_key& key) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = open_.find(key);
  return it == open_.end() ? 0 : it->second;
}

void connection_limit::release(const address_key& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = open_.find(key);
  if (it != open_.end() && --it->second == 0)
    open_.erase(it);
}

} // namespace parley::net
