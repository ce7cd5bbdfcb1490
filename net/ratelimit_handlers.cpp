#include "net/ratelimit_handlers.hpp"

#include "net/actor_answers.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/flat_json.hpp"
#include "net/json_codec.hpp"
#include "net/rate_limit_http.hpp"
#include "net/task_json.hpp"

#include <google/protobuf/util/message_differencer.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <fcntl.h>
#include <unistd.h>

namespace parley::net {

namespace {

constexpr int64_t max_cost = int64_t{1} << 40;

fault require_admin(const edge_context& ctx, const http_request& req) {
  jwt_claims claims;
  if (auto err = authenticate(req, ctx.opts.auth, false, claims))
    return err;
  if (claims.role != "admin")
    return make_fault(errc::forbidden, "rate-limit rules are for admins only");
  return {};
}

// Writes `text` to `path` atomically (temporary file, fsync, rename).
fault write_file_atomically(const std::string& path, const std::string& text) {
  auto tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_fault(errc::internal, "cannot write " + tmp);
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size())
                 && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return make_fault(errc::internal, "cannot replace " + path);
  }
  return {};
}

void put_rules(edge_context& ctx, http_request& req, responder respond) {
  if (auto err = require_admin(ctx, req))
    return respond(http_response::error(err));
  limits::rule_set set;
  if (auto err = limits::parse_rules_json(req.body, set))
    return respond(http_response::error(err));
  // One replacement at a time: the file and the set in force must end up the same.
  static std::mutex replacing;
  std::lock_guard<std::mutex> guard{replacing};
  // Persist first, so that a SIGHUP or a restart keeps what the admin put in force. The text
  // is loaded back before it is written: a file that start-up would refuse (which once made an
  // accepted PUT brick the node) is never written.
  if (!ctx.rate_limit_rules_file.empty()) {
    auto text = limits::to_toml(set);
    limits::rule_set reloaded;
    if (auto err = limits::parse_rules_toml(text, ctx.rate_limit_rules_file, reloaded)) {
      spdlog::error("rate-limit rules: the file for this set would not load: {}", err.message);
      return respond(http_response::error(
        make_fault(errc::internal, "the rule set cannot be saved: " + err.message)));
    }
    if (!google::protobuf::util::MessageDifferencer::Equals(reloaded.source, set.source))
      return respond(http_response::error(
        make_fault(errc::internal, "the rule set does not survive being saved")));
    if (auto err = write_file_atomically(ctx.rate_limit_rules_file, text))
      return respond(http_response::error(err));
  }
  auto body = to_json(set.source);
  ctx.limiter->replace(std::move(set));
  spdlog::info("rate-limit rules replaced through the admin API");
  respond(http_response::json(200, body));
}

// The check request from its common flat form without the protobuf JSON parser (a visible
// share of a check's cost); false when the body needs the full parser.
bool fast_check_request(const std::string& body, pb::RateLimitCheckRequest& out) {
  flat_json doc;
  if (!parse_flat_json(body, doc))
    return false;
  for (auto& f : doc.fields) {
    if (f.name == "rule" || f.name == "key") {
      if (!f.quoted)
        return false;  // null, numbers, booleans: the full parser's answer
      (f.name == "rule" ? out.mutable_rule() : out.mutable_key())->assign(f.value);
    } else if (f.name == "cost") {
      // A bare integer only; "3" (int64 as a string), null and the rest go the long way.
      int64_t cost = 0;
      auto* end = f.value.data() + f.value.size();
      auto [ptr, ec] = std::from_chars(f.value.data(), end, cost);
      if (f.quoted || ec != std::errc{} || ptr != end)
        return false;
      out.set_cost(cost);
    }
  }
  return true;
}

std::string check_response_json(const limits::decision& d) {
  // The protobuf JSON mapping of RateLimitCheckResponse, written directly: int64 as strings,
  // the timestamp in RFC 3339.
  std::string out;
  out.reserve(160);
  out += d.allowed ? R"({"allowed":true,"limit":")" : R"({"allowed":false,"limit":")";
  out += std::to_string(d.limit);
  out += R"(","remaining":")";
  out += std::to_string(d.remaining);
  out += R"(","reset_at":)";
  append_time_json(out, d.reset_ms);
  out += R"(,"retry_after_ms":")";
  out += std::to_string(d.retry_after_ms);
  out += R"("})";
  return out;
}

void check(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (auto err = authenticate(req, ctx.opts.auth, false, claims))
    return respond(http_response::error(err));
  pb::RateLimitCheckRequest body;
  if (!fast_check_request(req.body, body)) {
    body.Clear();
    if (auto err = from_json(req.body, body))
      return respond(http_response::error(err));
  }
  if (body.rule().empty())
    return respond(http_response::error(make_fault(errc::bad_request, "rule is required")));
  if (body.key().empty() || body.key().size() > 256)
    return respond(http_response::error(
      make_fault(errc::bad_request, "key is required (at most 256 bytes)")));
  auto cost = body.cost() == 0 ? 1 : body.cost();
  if (cost < 1 || cost > max_cost)
    return respond(http_response::error(make_fault(errc::bad_request, "cost must be positive")));
  // Keys are the caller's own: prefixed with its identity, a service can neither spend another
  // service's budget nor the budgets the edge keeps for addresses and users.
  auto key = "svc:" + claims.sub + ":" + body.key();
  limits::decision d;
  if (auto err = ctx.limiter->check_rule(body.rule(), key, cost, claims.tier, d))
    return respond(http_response::error(err));
  auto answer = [limiter = ctx.limiter](responder& respond, const limits::decision& d) {
    // The check API reports a rejection in its body; the call itself succeeded.
    auto res = http_response::json(200, check_response_json(d));
    add_rate_limit_headers(res, d, limiter->now_ms());
    respond(std::move(res));
  };
  if (d.remote.empty())
    return answer(respond, d);
  // A cluster-scoped rule whose key another node owns: counted there (one hop).
  auto holder = std::make_shared<responder>(std::move(respond));
  decide_remote(ctx, std::move(d), answer_within(ctx),
                [holder, answer](limits::decision decided) { answer(*holder, decided); });
}

} // namespace

fault load_rules_file(limits::rate_limiter& limiter, const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return make_fault(errc::bad_request, "cannot read rate-limit rules " + path);
  std::stringstream text;
  text << in.rdbuf();
  limits::rule_set set;
  if (auto err = limits::parse_rules_toml(text.str(), path, set))
    return err;
  auto n = set.rules.size();
  limiter.replace(std::move(set));
  spdlog::info("rate-limit rules: {} from {}", n, path);
  return {};
}

void add_ratelimit_routes(edge_context& ctx) {
  auto& r = ctx.routes;
  r.add("GET", "/api/v1/admin/ratelimits", [&ctx](http_request& req, responder respond) {
    if (auto err = require_admin(ctx, req))
      return respond(http_response::error(err));
    respond(http_response::json(200, to_json(ctx.limiter->current())));
  });
  r.add("PUT", "/api/v1/admin/ratelimits", [&ctx](http_request& req, responder respond) {
    put_rules(ctx, req, std::move(respond));
  });
  r.add("POST", "/api/v1/ratelimit/check", [&ctx](http_request& req, responder respond) {
    check(ctx, req, std::move(respond));
  });
}

} // namespace parley::net
