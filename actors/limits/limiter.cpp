#include "actors/limits/limiter.hpp"
#include "common/clock.hpp"

#include "common/metrics.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

namespace parley::limits {

struct rate_limiter::compiled {
  const rule* r;
  std::shared_ptr<limiter_table> table;
  metrics::counter* allowed;
  metrics::counter* rejected;
  metrics::counter* simulated;
  metrics::counter* errors;
};

struct rate_limiter::active {
  rule_set set;
  std::vector<compiled> rules;
  bool any_http = false;
  bool http_identity = false;
};

namespace {

bool same_params(const limit_params& a, const limit_params& b) {
  return a.algo == b.algo && a.limit == b.limit && a.window_ms == b.window_ms
         && a.refill_per_ms == b.refill_per_ms;
}

bool same_numbers(const rule& a, const rule& b) {
  if (a.key != b.key || !same_params(a.base, b.base) || a.tiers.size() != b.tiers.size())
    return false;
  for (auto& [tier, p] : a.tiers) {
    auto it = b.tiers.find(tier);
    if (it == b.tiers.end() || !same_params(p, it->second))
      return false;
  }
  return true;
}

limit_params longest_window(const rule& r) {
  auto p = r.base;
  for (auto& [tier, t] : r.tiers)
    p.window_ms = std::max(p.window_ms, t.window_ms);
  return p;
}

// The key text of `who` for a rule keyed by `kind`, composed in `buf` when it needs a prefix.
// Unauthenticated callers of user- and api_key-rules are keyed by their address instead, under
// a prefix no user id (no ':') or presented API key ("k:" prefix) can take.
std::string_view key_of(key_kind kind, const subject& who, std::array<char, 160>& buf) {
  auto prefixed = [&](std::string_view prefix, std::string_view text) -> std::string_view {
    auto n = std::min(text.size(), buf.size() - prefix.size());
    std::memcpy(buf.data(), prefix.data(), prefix.size());
    std::memcpy(buf.data() + prefix.size(), text.data(), n);
    return {buf.data(), prefix.size() + n};
  };
  switch (kind) {
    case key_kind::ip:
      return who.ip;
    case key_kind::user:
      return who.user.empty() ? prefixed("ip:", who.ip) : who.user;
    case key_kind::api_key:
      return who.api_key.empty() ? prefixed("ip:", who.ip) : prefixed("k:", who.api_key);
    case key_kind::global:
      return {};
    case key_kind::connection:
      return who.connection;
  }
  return {};
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Folds one rule's verdict into the decision: all must allow; the headers follow the rule
// closest to its limit, or on a rejection the one that makes the caller wait longest.
void merge(decision& d, const rule& r, const limit_params& p, const verdict& v) {
  bool take;
  if (!d.matched)
    take = true;
  else if (!v.allowed)
    take = d.allowed || v.retry_after_ms > d.retry_after_ms;
  else
    take = d.allowed
           && static_cast<double>(v.remaining) / static_cast<double>(v.limit)
                < static_cast<double>(d.remaining) / static_cast<double>(d.limit);
  d.matched = true;
  if (!v.allowed)
    d.allowed = false;
  if (take) {
    d.rule = r.name;
    d.limit = v.limit;
    d.remaining = v.remaining;
    d.reset_ms = v.reset_ms;
    d.retry_after_ms = v.retry_after_ms;
    d.window_sec = rule::window_sec(p);
  }
}

} // namespace

rate_limiter::rate_limiter(limiter_options opts) : opts_(std::move(opts)) {
  if (!opts_.clock)
    opts_.clock = unix_ms;
  replace(rule_set{});
}

rate_limiter::~rate_limiter() = default;

int64_t rate_limiter::now_ms() const {
  return opts_.clock();
}

void rate_limiter::replace(rule_set set) {
  std::lock_guard<std::mutex> guard{swap_mtx_};
  const active* previous = current_.get();
  auto next = std::make_unique<active>();
  next->set = std::move(set);
  auto& reg = metrics::global();
  for (auto& r : next->set.rules) {
    compiled c{&r, nullptr, nullptr, nullptr, nullptr, nullptr};
    if (previous)
      for (auto& old : previous->rules)
        if (old.r->name == r.name && same_numbers(*old.r, r))
          c.table = old.table;  // unchanged numbers: keep the keys' state
    if (!c.table)
      c.table = std::make_shared<limiter_table>(opts_.max_keys_per_rule, longest_window(r));
    auto label = "rule=\"" + r.name + "\"";
    c.allowed = &reg.get_counter("ratelimit_allowed_total", "Checks a rule allowed", label);
    c.rejected = &reg.get_counter("ratelimit_rejected_total", "Checks a rule rejected", label);
    c.simulated = &reg.get_counter("ratelimit_simulated_rejections_total",
                                   "Rejections of simulate-mode rules (not enforced)", label);
    c.errors = &reg.get_counter("ratelimit_undecided_total",
                                "Checks decided by on_error (limiter state full)", label);
    if (!r.path_prefix.empty()) {
      next->any_http = true;
      if (r.key == key_kind::user || !r.tiers.empty())
        next->http_identity = true;
    }
    next->rules.push_back(c);
  }
  active_.store(next.get(), std::memory_order_release);
  auto now = unix_ms();
  if (current_)
    retired_.emplace_back(now, std::move(current_));
  current_ = std::move(next);
  retired_.erase(std::remove_if(retired_.begin(), retired_.end(),
                                [now](auto& r) { return now - r.first > 60'000; }),
                 retired_.end());
}

pb::RateLimitRules rate_limiter::current() const {
  return load()->set.source;
}

bool rate_limiter::has_http_rules() const {
  return load()->any_http;
}

bool rate_limiter::http_rules_need_identity() const {
  return load()->http_identity;
}

namespace {

// One rule's verdict for `key`; when the table cannot take a new key the rule's on_error
// decides, and a metric counts it.
template <class Compiled>
verdict decide(const Compiled& c, std::string_view key, const limit_params& p, int64_t now,
               int64_t cost) {
  verdict v;
  if (c.table->check(key, p, now, cost, v))
    return v;
  c.errors->inc();
  v.allowed = !c.r->deny_on_error;
  v.limit = p.limit;
  v.reset_ms = now + p.window_ms;
  v.retry_after_ms = v.allowed ? 0 : p.window_ms;
  return v;
}

// A key as it may appear in a log: API keys are secrets, so they show as a short hash that
// still tells one caller from another ("k:#9f3a61c2"); addresses and user ids show as they are.
std::string loggable_key(std::string_view key) {
  if (key.substr(0, 2) != "k:")
    return std::string{key};
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : key.substr(2))
    h = (h ^ c) * 1099511628211ull;
  char out[16];
  std::snprintf(out, sizeof out, "k:#%08x", static_cast<unsigned>(h >> 32));
  return out;
}

// Counts the verdict; false for simulate-mode rules, which neither reject nor describe the
// answer.
template <class Compiled>
bool enforced(const Compiled& c, std::string_view key, const verdict& v) {
  if (c.r->simulate) {
    if (!v.allowed) {
      c.simulated->inc();
      spdlog::debug("rate limit (simulate) {} would reject key {}", c.r->name,
                    loggable_key(key));
    }
    return false;
  }
  (v.allowed ? c.allowed : c.rejected)->inc();
  return true;
}

template <class Compiled>
void apply(const Compiled& c, const subject& who, int64_t now, decision& d,
           const std::function<bool(std::string_view)>& owns_key) {
  std::array<char, 160> buf;
  auto key = key_of(c.r->key, who, buf);
  if (c.r->cluster_scope && owns_key && !owns_key(key)) {
    d.remote.push_back(remote_check{c.r->name, std::string{key}, std::string{who.tier}, 1});
    return;
  }
  auto& p = c.r->params_for(who.tier);
  auto v = decide(c, key, p, now, 1);
  if (enforced(c, key, v))
    merge(d, *c.r, p, v);
}

} // namespace

decision rate_limiter::check_http(std::string_view method, std::string_view path,
                                  const subject& who) {
  auto* set = load();
  decision d;
  if (!set->any_http)
    return d;
  auto now = now_ms();
  // HEAD is a GET without the body: it counts against GET rules.
  if (method == "HEAD")
    method = "GET";
  for (auto& c : set->rules) {
    auto& r = *c.r;
    if (r.path_prefix.empty() || !starts_with(path, r.path_prefix)
        || (!r.method.empty() && r.method != method))
      continue;
    apply(c, who, now, d, opts_.owns_key);
  }
  return d;
}

decision rate_limiter::check_frame(std::string_view frame_kind, const subject& who) {
  auto* set = load();
  decision d;
  auto now = now_ms();
  for (auto& c : set->rules)
    if (!c.r->frame.empty() && c.r->frame == frame_kind)
      apply(c, who, now, d, opts_.owns_key);
  return d;
}

fault rate_limiter::check_rule(const std::string& rule_name, std::string_view key, int64_t cost,
                               std::string_view tier, decision& out) {
  auto* set = load();
  for (auto& c : set->rules) {
    if (c.r->name != rule_name)
      continue;
    auto& p = c.r->params_for(tier);
    if (cost > p.limit)
      return make_fault(errc::bad_request, "cost " + std::to_string(cost)
                                             + " exceeds the rule's limit "
                                             + std::to_string(p.limit));
    if (c.r->cluster_scope && opts_.owns_key && !opts_.owns_key(key)) {
      out = decision{};
      out.remote.push_back(remote_check{rule_name, std::string{key}, std::string{tier}, cost});
      return {};
    }
    // The caller names the key itself: the rule's key kind does not apply.
    auto v = decide(c, key, p, now_ms(), cost);
    if (!enforced(c, key, v))
      v.allowed = true;
    out = decision{};
    merge(out, *c.r, p, v);
    return {};
  }
  return make_fault(errc::not_found, "no rate-limit rule named \"" + rule_name + "\"");
}

fault rate_limiter::check_owned(const remote_check& check, decision& out) {
  auto* set = load();
  for (auto& c : set->rules) {
    if (c.r->name != check.rule)
      continue;
    auto& p = c.r->params_for(check.tier);
    auto cost = std::clamp<int64_t>(check.cost, 1, p.limit);
    auto v = decide(c, check.key, p, now_ms(), cost);
    out = decision{};
    if (enforced(c, check.key, v))
      merge(out, *c.r, p, v);
    return {};
  }
  return make_fault(errc::not_found, "no rate-limit rule named \"" + check.rule + "\" here");
}

void rate_limiter::fold(decision& d, const decision& verdict) {
  if (!verdict.matched)
    return;
  bool take;
  if (!d.matched)
    take = true;
  else if (!verdict.allowed)
    take = d.allowed || verdict.retry_after_ms > d.retry_after_ms;
  else
    take = d.allowed
           && static_cast<double>(verdict.remaining) / static_cast<double>(verdict.limit)
                < static_cast<double>(d.remaining) / static_cast<double>(d.limit);
  d.matched = true;
  if (!verdict.allowed)
    d.allowed = false;
  if (take) {
    d.rule = verdict.rule;
    d.limit = verdict.limit;
    d.remaining = verdict.remaining;
    d.reset_ms = verdict.reset_ms;
    d.retry_after_ms = verdict.retry_after_ms;
    d.window_sec = verdict.window_sec;
  }
}

decision rate_limiter::undecided(const remote_check& check) {
  auto* set = load();
  decision out;
  for (auto& c : set->rules) {
    if (c.r->name != check.rule)
      continue;
    c.errors->inc();
    if (c.r->simulate)
      return out;
    auto& p = c.r->params_for(check.tier);
    verdict v;
    auto now = now_ms();
    v.allowed = !c.r->deny_on_error;
    v.limit = p.limit;
    v.reset_ms = now + p.window_ms;
    v.retry_after_ms = v.allowed ? 0 : p.window_ms;
    merge(out, *c.r, p, v);
    return out;
  }
  return out;
}

} // namespace parley::limits
