// What a task may be and when it runs: validation of a create request and of a worker's lease
// and heartbeat requests (bounds documented in docs/tasks.md), the retry backoff, and the next
// firing of a recurring task.
#pragma once

#include "common/errc.hpp"
#include "proto/parley.pb.h"

#include <cstdint>

namespace parley::tasks {

struct task_bounds {
  static constexpr int max_retries = 100;
  static constexpr int max_initial_delay_sec = 86400;
  static constexpr int max_timeout_sec = 86400;
  static constexpr int max_priority = 1000;
  static constexpr size_t max_idempotency_key = 200;
  static constexpr int64_t max_backoff_ms = 24LL * 3600 * 1000;
  static constexpr int64_t max_delay_ms = 10LL * 366 * 24 * 3600 * 1000;
  // What a worker may ask for in one lease request (POST /api/v1/leases) or heartbeat.
  static constexpr int max_lease_tasks = 100;
  static constexpr int max_lease_sec = 3600;
  static constexpr int default_lease_sec = 30;
  static constexpr int max_wait_ms = 60000;
  static constexpr size_t max_lease_types = 32;
  static constexpr size_t max_task_type = 64;
  static constexpr size_t max_worker_id = 128;
};

// Free-form JSON a client hands in (a payload, a result) may nest at most this many levels:
// protobuf holds it two messages deep per level, and its JSON printer gives up past 64 nested
// messages (a listing page adds two more): a deeper payload would be stored but print as
// nothing in GET, listings and leases.
inline constexpr int max_free_form_depth = 30;

// `bad_request` if `v` nests deeper than max_free_form_depth, `too_large` if its protobuf
// encoding is larger than `max_bytes`; `field` names it in the message.
fault check_free_form(const google::protobuf::Value& v, const char* field, size_t max_bytes);

// Validates `req` and fills a new PENDING record (everything but the id) created at `now_ms`.
// Payloads larger than `max_payload_bytes` (protobuf-encoded) are too_large.
fault prepare_task(const pb::CreateTaskRequest& req, int64_t now_ms, size_t max_payload_bytes,
                   pb::StoredTask& out);

// Validates a lease request, filling the defaults of its zero fields (max_tasks 1,
// lease_sec 30); `bad_request` naming the field otherwise.
fault check_lease_request(pb::LeaseRequest& r);

// Validates a heartbeat's lease_sec (0 keeps the lease's current length).
fault check_heartbeat_request(const pb::HeartbeatRequest& r);

// How long to wait before attempt `attempt` + 1 after attempt `attempt` (1-based) failed:
// initial_delay (fixed) or initial_delay * 2^(attempt-1) (exponential), capped at 24 h, plus
// up to 25% jitter drawn from `random`.
int64_t retry_delay_ms(const pb::RetryPolicy& policy, int attempt, uint64_t random);

bool is_recurring(const pb::StoredTask& t);

// The next firing of a recurring task strictly after `after_ms` (-1 if it has none).
int64_t next_firing(const pb::StoredTask& t, int64_t after_ms);

} // namespace parley::tasks
