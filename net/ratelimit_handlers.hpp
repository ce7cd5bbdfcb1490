// The rate limiter's HTTP surface: GET/PUT /api/v1/admin/ratelimits (admin only) and the check
// API POST /api/v1/ratelimit/check for other backends (any authenticated caller).
#pragma once

#include "common/errc.hpp"

#include <string>

namespace parley::limits {
class rate_limiter;
}

namespace parley::net {

struct edge_context;

void add_ratelimit_routes(edge_context& ctx);

// Loads the rules file into `limiter` (start-up and SIGHUP). On failure the old set stays.
fault load_rules_file(limits::rate_limiter& limiter, const std::string& path);

} // namespace parley::net
