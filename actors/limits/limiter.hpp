// The rate limiter (PROTOCOL.md, Rate limiting), called inline by the HTTP and WebSocket edge
// and by the check API: no actor hop on the hot path. It holds the rule set in force (swapped
// atomically by PUT and SIGHUP; state survives for rules whose algorithm and numbers did not
// change) and one limiter_table per rule.
#pragma once

#include "actors/limits/limiter_table.hpp"
#include "actors/limits/rules.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <memory>
#include <atomic>
#include <mutex>
#include <vector>

namespace parley::metrics {
class counter;
}

namespace parley::limits {

// Who is asking, as the rules' `key` sees it. Views into the caller's request.
struct subject {
  std::string_view ip;
  std::string_view user;        // empty when unauthenticated
  std::string_view api_key;     // the X-API-Key header, empty when absent
  std::string_view tier;        // the JWT `tier` claim
  std::string_view connection;  // the WebSocket session id
};

// A cluster-scoped rule whose key another node owns: the caller asks that node's limit service
// (limit_service.hpp), one hop, and folds its verdict in with rate_limiter::fold.
struct remote_check {
  std::string rule;
  std::string key;
  std::string tier;
  int64_t cost = 1;
};

struct decision {
  bool allowed = true;
  // An enforcing rule matched: the answer carries the rate-limit headers of `rule`, the
  // matching rule closest to its limit (the rejecting one with the longest wait on a 429).
  bool matched = false;
  std::string rule;
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t reset_ms = 0;  // unix ms
  int64_t retry_after_ms = 0;
  int64_t window_sec = 0;
  // Cluster-scoped rules not decided here: their keys' owners decide (empty on a single node,
  // and for rules of scope node).
  std::vector<remote_check> remote;
};

struct limiter_options {
  // Keys remembered per rule; new keys past this fall back to the rule's on_error.
  size_t max_keys_per_rule = 1'000'000;
  // Unix milliseconds; replaced by a fake clock in tests.
  std::function<int64_t()> clock;
  // In a cluster: whether this node owns `key` (cluster-scoped rules count a key at its owner).
  // Null: every key is this node's (a single node).
  std::function<bool(std::string_view key)> owns_key;
};

class rate_limiter {
public:
  explicit rate_limiter(limiter_options opts = {});
  ~rate_limiter();

  // Puts `set` in force atomically.
  void replace(rule_set set);
  // The normalized rule set in force, for GET /api/v1/admin/ratelimits.
  pb::RateLimitRules current() const;
  // True when some rule could match an HTTP request (false: the edge skips identity lookups).
  bool has_http_rules() const;
  // True when some rule needs the user or tier of an HTTP request (so the edge verifies JWTs).
  bool http_rules_need_identity() const;

  decision check_http(std::string_view method, std::string_view path, const subject& who);
  decision check_frame(std::string_view frame_kind, const subject& who);
  // The check API: one named rule for one key. not_found for an unknown rule. A cluster-scoped
  // rule whose key another node owns is left in out.remote, undecided.
  fault check_rule(const std::string& rule_name, std::string_view key, int64_t cost,
                   std::string_view tier, decision& out);
  // The owner's side of a remote_check: the rule counts `key` here, whatever its scope. A
  // simulate-mode rule answers an unmatched decision (it never refuses). not_found for a rule
  // this node does not have.
  fault check_owned(const remote_check& check, decision& out);
  // Folds the owner's verdict for one remote check into `d`, as if the rule had been checked
  // here (all must allow; the headers follow the rule closest to its limit).
  static void fold(decision& d, const decision& verdict);
  // The verdict of a remote check whose owner did not answer: the rule's on_error decides (and
  // parley_ratelimit_undecided_total counts it). Allowed when this node lacks the rule.
  decision undecided(const remote_check& check);

  int64_t now_ms() const;

private:
  struct compiled;
  struct active;
  const active* load() const { return active_.load(std::memory_order_acquire); }

  limiter_options opts_;
  // Readers take the set in force with one atomic load (no reference count on the hot path).
  // A replaced set is retired, not freed: checks that loaded it may still be running. Retired
  // sets are freed on a later replace once a minute has passed, far beyond any check.
  std::atomic<const active*> active_{nullptr};
  std::mutex swap_mtx_;
  std::vector<std::pair<int64_t, std::unique_ptr<const active>>> retired_;
  std::unique_ptr<const active> current_;
};

} // namespace parley::limits
