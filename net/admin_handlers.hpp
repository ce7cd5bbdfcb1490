// The admin HTTP API (docs/operations.md): GET /admin/v1/commands lists the command registry,
// POST /admin/v1/<command> runs one through the node's admin actor, GET /admin/v1/samples streams
// the node's samples as Server-Sent Events; GET /admin/ is the operator page (web/admin/). Tokens
// with role viewer or admin only; the actor checks the rest (mutations, arguments).
#pragma once

#include "actors/admin/admin_api.hpp"
#include "net/http_types.hpp"

#include <string>

namespace parley::net {

struct edge_context;

struct admin_route_options {
  // The node's samples after a unix-ms time, one event each (node/node_sampler.hpp).
  event_source samples;
  // Sample streams open at once on this node; one more is refused with 503. Default: 8
  size_t max_streams = 8;
  // The web client's folder (server.web_dir); the operator page is its admin/ folder.
  std::string web_dir;
};

// Call once per node: on the public listener, or on the admin listener (admin.listen).
void add_admin_routes(edge_context& ctx, admin::admin_api admin, admin_route_options opts);

} // namespace parley::net
