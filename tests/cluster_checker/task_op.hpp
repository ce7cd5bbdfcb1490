// One task API call as the checker saw it: a create (by idempotency key), a lease (one record
// per granted lease) or a complete, and what became of it (ok, an error status, or no answer).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace parley::test {

struct task_op {
  enum class kind : uint8_t { create, lease, complete };
  enum class outcome : uint8_t { ok, error, timeout };

  kind what = kind::create;
  outcome result = outcome::timeout;
  uint32_t node = 0;
  std::string key;       // create: the idempotency key (also the payload's "key")
  std::string task_id;   // create ok, lease ok (empty: nothing to lease), complete
  std::string lease_id;  // lease ok, complete
  bool retry = false;    // create: a key sent before
  int status = 0;        // HTTP status when answered
  std::chrono::steady_clock::time_point sent;
  std::chrono::steady_clock::time_point answered;
};

} // namespace parley::test
