// The admin HTTP API (docs/operations.md): GET /admin/v1/commands lists the command registry,
// POST /admin/v1/<command> runs one through the node's admin actor. Tokens with role viewer or
// admin only; the actor checks the rest (mutations, arguments).
#pragma once

#include "actors/admin/admin_api.hpp"

namespace parley::net {

struct edge_context;

void add_admin_routes(edge_context& ctx, admin::admin_api admin);

} // namespace parley::net
