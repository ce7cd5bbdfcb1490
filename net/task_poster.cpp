#include "net/task_poster.hpp"

#include "common/utf8.hpp"
#include "net/client/http_client.hpp"
#include "net/http_allow.hpp"

#include <spdlog/spdlog.h>

#include <memory>

namespace parley::net {

namespace {

// Responses larger than this are not read further; what was read counts, cut to max_body.
constexpr size_t max_body_read = 1 << 20;

tasks::post_outcome post(const http_allow_list& allow, const tasks::outbound_post& req) {
  tasks::post_outcome out;
  client::http_url url;
  std::string error;
  if (!client::parse_http_url(req.url, url, error)) {
    out.url_valid = false;
    out.error = "url must be http://host[:port]/path (" + valid_utf8(error, 300) + ")";
    return out;
  }
  if (req.task_destination && allow.empty()) {
    out.url_valid = false;
    out.error = "http tasks are disabled: tasks.http_allow is empty";
    return out;
  }
  client::http_client_options opts;
  opts.connect_timeout = req.timeout;
  opts.request_timeout = req.timeout;
  opts.body_limit_bytes = max_body_read;
  opts.user_agent = "parley-task-executor";
  opts.allow = req.task_destination ? &allow : nullptr;
  client::http_client http{std::move(url), std::move(opts)};
  client::http_request r;
  r.body = req.body;
  r.headers = req.headers;
  auto res = http.request(r);
  if (res.refused) {
    out.url_valid = false;
    out.error = std::move(res.error);
  } else if (res.timed_out) {
    out.error = "timed out after " + std::to_string(req.timeout.count()) + " ms";
  } else if (!res.ok()) {
    out.error = valid_utf8(res.error, 500);
  } else {
    out.status = res.status;
    out.body = res.body.substr(0, req.max_body);
  }
  return out;
}

} // namespace

tasks::http_poster make_task_poster(const std::vector<std::string>& allow_entries) {
  std::string error;
  auto allow = http_allow_list::parse(allow_entries, error);
  if (!allow) {
    // The node validated it at start-up; refusing every destination is the safe side anyway.
    spdlog::error("tasks.http_allow: {}: http tasks refuse every destination", error);
    allow = http_allow_list{};
  }
  auto list = std::make_shared<const http_allow_list>(std::move(*allow));
  return [list](const tasks::outbound_post& req) { return post(*list, req); };
}

} // namespace parley::net
