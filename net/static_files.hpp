// Serves the web client: GET / is web_dir/index.html, GET /static/{file} a file of
// web_dir/static (one path segment: no directories, no dot files, so nothing outside it), and
// the operator page the same way from web_dir/admin.
#pragma once

#include <string>

namespace parley::net {

struct edge_context;

void add_static_routes(edge_context& ctx, const std::string& web_dir);

// The operator page: GET /admin/ is web_dir/admin/index.html (/admin redirects there), GET
// /admin/{file} a file of web_dir/admin. Added with the admin API, on whichever listener has it.
void add_admin_page_routes(edge_context& ctx, const std::string& web_dir);

} // namespace parley::net
