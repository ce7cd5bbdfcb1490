#include "actors/limits/limit_service.hpp"

#include "actors/runtime/errors.hpp"

#include <caf/all.hpp>

namespace parley::limits {

pb::RateLimitAsk to_ask(const remote_check& check) {
  pb::RateLimitAsk out;
  out.set_rule(check.rule);
  out.set_key(check.key);
  out.set_tier(check.tier);
  out.set_cost(check.cost);
  return out;
}

remote_check from_ask(const pb::RateLimitAsk& ask) {
  return remote_check{ask.rule(), ask.key(), ask.tier(), ask.cost()};
}

pb::RateLimitVerdict to_verdict(const decision& d) {
  pb::RateLimitVerdict out;
  out.set_matched(d.matched);
  out.set_allowed(d.allowed);
  out.set_rule(d.rule);
  out.set_limit(d.limit);
  out.set_remaining(d.remaining);
  out.set_reset_ms(d.reset_ms);
  out.set_retry_after_ms(d.retry_after_ms);
  out.set_window_sec(d.window_sec);
  return out;
}

decision from_verdict(const pb::RateLimitVerdict& v) {
  decision d;
  d.matched = v.matched();
  d.allowed = v.allowed();
  d.rule = v.rule();
  d.limit = v.limit();
  d.remaining = v.remaining();
  d.reset_ms = v.reset_ms();
  d.retry_after_ms = v.retry_after_ms();
  d.window_sec = v.window_sec();
  return d;
}

limit_service_api spawn_limit_service(caf::actor_system& sys,
                                      std::shared_ptr<rate_limiter> limiter) {
  return sys.spawn([limiter](limit_service_api::pointer) -> limit_service_api::behavior_type {
    return {
      [limiter](limit_check_atom, const pb::RateLimitAsk& ask) -> caf::result<pb::RateLimitVerdict> {
        decision d;
        if (auto err = limiter->check_owned(from_ask(ask), d))
          return make_error(err);
        return to_verdict(d);
      },
    };
  });
}

} // namespace parley::limits
