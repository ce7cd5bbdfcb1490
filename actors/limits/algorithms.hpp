// The four rate-limiting algorithms of the seed design, as pure functions of a key's state,
// the limit and the current time (so they are tested with a fake clock). Times are unix ms.
//
//   fixed_window    at most `limit` per aligned window; cheap, allows 2x bursts at the edges.
//   sliding_log     exact: one timestamp per admitted request within the last window.
//   sliding_window  the previous window's count weighted by its overlap with the sliding
//                   window, plus the current one (Cloudflare's approximation of the log).
//   token_bucket    `capacity` tokens refilled at `refill_per_sec`; a request takes `cost`.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace parley::limits {

enum class algorithm : uint8_t { fixed_window, sliding_log, sliding_window, token_bucket };

std::string_view to_string(algorithm a);
// False when `name` is not one of the four names.
bool parse_algorithm(std::string_view name, algorithm& out);

struct limit_params {
  algorithm algo = algorithm::fixed_window;
  int64_t limit = 0;        // windows: requests per window; bucket: capacity
  int64_t window_ms = 0;    // windows: the window; bucket: time to refill from empty
  double refill_per_ms = 0; // bucket only
};

// sliding_log: a ring of (timestamp, cost) of admitted requests, oldest first. Held apart from
// key_state so that the common state stays one cache line in the limiter's table.
struct log_ring {
  struct entry {
    int64_t at;
    int64_t cost;
  };
  std::vector<entry> ring;
  uint32_t head = 0;
  uint32_t size = 0;
  int64_t logged = 0;  // sum of costs in the ring
};

// What one key of one rule remembers. Kept small: a limiter holds millions of these.
struct key_state {
  int64_t window_start = 0;  // windows: start of the current window
  int64_t count = 0;         // windows: admitted in the current window
  int64_t prev_count = 0;    // sliding_window: admitted in the previous window
  double tokens = 0;         // token_bucket
  int64_t last_ms = 0;       // last check (bucket refill, idle expiry)
  std::unique_ptr<log_ring> log;  // sliding_log only, allocated on the key's first request
};

struct verdict {
  bool allowed = true;
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t reset_ms = 0;        // unix ms when the key is fully available again
  int64_t retry_after_ms = 0;  // 0 when allowed
};

// Decides and, when allowed, records `cost` (>= 1). A fresh key_state is a key never seen.
verdict check(key_state& s, const limit_params& p, int64_t now_ms, int64_t cost);

// True when the state holds nothing a future check would need (the key may be forgotten).
bool idle(const key_state& s, const limit_params& p, int64_t now_ms);

} // namespace parley::limits
