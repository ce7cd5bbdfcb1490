#include "net/static_files.hpp"

#include "net/edge_context.hpp"

#include <fstream>
#include <sstream>

namespace parley::net {

namespace {

std::string content_type_of(const std::string& name) {
  auto dot = name.rfind('.');
  auto ext = dot == std::string::npos ? std::string{} : name.substr(dot + 1);
  if (ext == "html")
    return "text/html; charset=utf-8";
  if (ext == "js")
    return "text/javascript; charset=utf-8";
  if (ext == "css")
    return "text/css; charset=utf-8";
  if (ext == "svg")
    return "image/svg+xml";
  if (ext == "png")
    return "image/png";
  return "application/octet-stream";
}

http_response serve_file(const std::string& path, const std::string& name) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return http_response::error(make_fault(errc::not_found, "no such file " + name));
  std::ostringstream body;
  body << in.rdbuf();
  auto res = http_response::text(200, body.str(), content_type_of(name));
  // The client is small and changes with the node: revalidate rather than cache stale code.
  res.headers.emplace_back("Cache-Control", "no-cache");
  return res;
}

// A file of `dir` by one path segment: no directories, no dot files, so nothing outside it.
http_response serve_one(const std::string& dir, const std::string& file) {
  if (file.empty() || file.front() == '.' || file.find('/') != std::string::npos
      || file.find('\\') != std::string::npos || file.find('\0') != std::string::npos)
    return http_response::error(make_fault(errc::not_found, "no such file"));
  return serve_file(dir + "/" + file, file);
}

} // namespace

void add_static_routes(edge_context& ctx, const std::string& web_dir) {
  ctx.routes.add("GET", "/", [web_dir](http_request&, responder respond) {
    respond(serve_file(web_dir + "/index.html", "index.html"));
  });
  ctx.routes.add("GET", "/static/{file}", [web_dir](http_request& req, responder respond) {
    respond(serve_one(web_dir + "/static", req.params.at("file")));
  });
}

void add_admin_page_routes(edge_context& ctx, const std::string& web_dir) {
  ctx.routes.add("GET", "/admin", [web_dir](http_request& req, responder respond) {
    // The page's own files are relative to /admin/.
    if (req.path.empty() || req.path.back() != '/') {
      auto res = http_response::text(301, "", "text/plain");
      res.headers.emplace_back("Location", "/admin/");
      return respond(std::move(res));
    }
    respond(serve_file(web_dir + "/admin/index.html", "index.html"));
  });
  ctx.routes.add("GET", "/admin/{file}", [web_dir](http_request& req, responder respond) {
    respond(serve_one(web_dir + "/admin", req.params.at("file")));
  });
}

} // namespace parley::net
