// Serves the web client: GET / is web_dir/index.html, GET /static/{file} a file of
// web_dir/static (one path segment: no directories, no dot files, so nothing outside it).
#pragma once

#include <string>

namespace parley::net {

struct edge_context;

void add_static_routes(edge_context& ctx, const std::string& web_dir);

} // namespace parley::net
