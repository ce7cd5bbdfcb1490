// The URL shortener's HTTP surface (PROTOCOL.md, Links): the /api/v1/urls endpoints and the
// redirect `GET|HEAD /{key}`, registered as the router's fallback so that it never shadows a
// route. Must be added after every other route (aliases may not take a route's first segment).
#pragma once

namespace parley::net {

struct edge_context;

void add_link_routes(edge_context& ctx);

} // namespace parley::net
