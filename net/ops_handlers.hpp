// Operational endpoints: /healthz, /readyz, /metrics and the dev token endpoint.
#pragma once

namespace parley::net {

struct edge_context;

void add_ops_routes(edge_context& ctx);

} // namespace parley::net
