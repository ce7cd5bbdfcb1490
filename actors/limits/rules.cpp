#include "actors/limits/rules.hpp"

#include "common/json_depth.hpp"

#include <google/protobuf/util/json_util.h>
#include <toml++/toml.h>

#include <cmath>
#include <set>
#include <sstream>

namespace parley::limits {

namespace {

constexpr int64_t max_limit = int64_t{1} << 40;
constexpr int64_t max_window_sec = 366LL * 24 * 3600;
constexpr size_t max_rules = 1000;

fault invalid(const std::string& where, const std::string& what) {
  return make_fault(errc::bad_request, where + ": " + what);
}

bool parse_key(std::string_view name, key_kind& out) {
  static const std::pair<std::string_view, key_kind> kinds[] = {
    {"ip", key_kind::ip},         {"user", key_kind::user},
    {"api_key", key_kind::api_key}, {"global", key_kind::global},
    {"connection", key_kind::connection}};
  for (auto& [n, k] : kinds)
    if (n == name) {
      out = k;
      return true;
    }
  return false;
}

// Fills the numbers of `out` for `algo` from limit/window or capacity/refill.
fault compile_params(const std::string& where, algorithm algo, int64_t limit, int64_t window_sec,
                     int64_t capacity, double refill_per_sec, limit_params& out) {
  out.algo = algo;
  if (algo == algorithm::token_bucket) {
    if (capacity <= 0 || capacity > max_limit)
      return invalid(where, "capacity must be between 1 and 2^40");
    if (!(refill_per_sec > 0) || !std::isfinite(refill_per_sec) || refill_per_sec > 1e9)
      return invalid(where, "refill_per_sec must be positive");
    if (static_cast<double>(capacity) / refill_per_sec > static_cast<double>(max_window_sec))
      return invalid(where, "capacity / refill_per_sec (the time to refill) must be at most "
                            "31622400 seconds");
    out.limit = capacity;
    out.refill_per_ms = refill_per_sec / 1000.0;
    out.window_ms = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(static_cast<double>(capacity) / out.refill_per_ms)));
    return {};
  }
  if (limit <= 0 || limit > max_limit)
    return invalid(where, "limit must be between 1 and 2^40");
  if (window_sec <= 0 || window_sec > max_window_sec)
    return invalid(where, "window_sec must be between 1 and 31622400");
  if (algo == algorithm::sliding_log && limit > 1'000'000)
    return invalid(where, "sliding_log keeps one entry per request: limit at most 1000000");
  out.limit = limit;
  out.window_ms = window_sec * 1000;
  return {};
}

fault compile_rule(const pb::RateLimitRule& in, size_t index, rule& out,
                   pb::RateLimitRule& normalized) {
  auto where = "rules[" + std::to_string(index) + "]";
  if (in.name().empty())
    return invalid(where, "name is required");
  if (in.name().size() > 64
      || in.name().find_first_of("\"\\\r\n;,= ") != std::string::npos)
    return invalid(where, "name must be 1..64 characters without quotes, spaces, ';', ',' or '='");
  where += " (" + in.name() + ")";
  out.name = in.name();
  out.path_prefix = in.match().path_prefix();
  out.method = in.match().method();
  out.frame = in.match().frame();
  if (out.path_prefix.empty() && out.frame.empty())
    return invalid(where, "match needs path_prefix (HTTP) or frame (WebSocket)");
  if (!out.path_prefix.empty() && !out.frame.empty())
    return invalid(where, "match takes path_prefix or frame, not both");
  if (!out.path_prefix.empty() && out.path_prefix.front() != '/')
    return invalid(where, "match.path_prefix must start with '/'");
  if (!out.frame.empty() && !out.method.empty())
    return invalid(where, "match.method applies to HTTP rules only");
  for (auto& c : out.method)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!parse_key(in.key().empty() ? "ip" : in.key(), out.key))
    return invalid(where, "key must be ip, user, api_key, global or connection, not \"" + in.key()
                            + "\"");
  if (out.key == key_kind::connection && out.frame.empty())
    return invalid(where, "key connection applies to WebSocket frame rules only");
  algorithm algo;
  if (!parse_algorithm(in.algorithm(), algo))
    return invalid(where, "algorithm must be fixed_window, sliding_log, sliding_window or "
                          "token_bucket, not \""
                            + in.algorithm() + "\"");
  if (auto err = compile_params(where, algo, in.limit(), in.window_sec(), in.capacity(),
                                in.refill_per_sec(), out.base))
    return err;
  for (auto& [tier, t] : in.tiers()) {
    if (tier.empty())
      return invalid(where, "a tier needs a name");
    auto& p = out.tiers[tier];
    if (t.limit() < 0 || t.capacity() < 0 || t.refill_per_sec() < 0)
      return invalid(where + " tier " + tier, "numbers must be positive");
    if (auto err = compile_params(
          where + " tier " + tier, algo, t.limit() ? t.limit() : in.limit(), in.window_sec(),
          t.capacity() ? t.capacity() : in.capacity(),
          t.refill_per_sec() > 0 ? t.refill_per_sec() : in.refill_per_sec(), p))
      return err;
  }
  auto mode = in.mode().empty() ? "enforce" : in.mode();
  if (mode != "enforce" && mode != "simulate")
    return invalid(where, "mode must be enforce or simulate");
  out.simulate = mode == "simulate";
  auto on_error = in.on_error().empty() ? "allow" : in.on_error();
  if (on_error != "allow" && on_error != "deny")
    return invalid(where, "on_error must be allow or deny");
  out.deny_on_error = on_error == "deny";
  auto scope = in.scope().empty() ? "node" : in.scope();
  if (scope != "node" && scope != "cluster")
    return invalid(where, "scope must be node or cluster");
  out.cluster_scope = scope == "cluster";
  // A frame is checked inline by its connection's actor, which never waits on another node.
  if (out.cluster_scope && !out.frame.empty())
    return invalid(where, "scope cluster applies to HTTP rules and the check API; WebSocket frame "
                          "rules are counted per node");

  normalized = in;
  normalized.set_key(in.key().empty() ? "ip" : in.key());
  normalized.mutable_match()->set_method(out.method);
  normalized.set_mode(mode);
  normalized.set_on_error(on_error);
  normalized.set_scope(scope);
  return {};
}

} // namespace

const limit_params& rule::params_for(std::string_view tier) const {
  if (!tier.empty() && !tiers.empty()) {
    auto it = tiers.find(tier);
    if (it != tiers.end())
      return it->second;
  }
  return base;
}

int64_t rule::window_sec(const limit_params& p) {
  return std::max<int64_t>(1, (p.window_ms + 999) / 1000);
}

fault compile_rules(const pb::RateLimitRules& in, rule_set& out) {
  if (static_cast<size_t>(in.rules_size()) > max_rules)
    return make_fault(errc::bad_request, "at most 1000 rules");
  rule_set fresh;
  std::set<std::string> names;
  for (int i = 0; i < in.rules_size(); ++i) {
    rule r;
    auto* normalized = fresh.source.add_rules();
    if (auto err = compile_rule(in.rules(i), static_cast<size_t>(i), r, *normalized))
      return err;
    if (!names.insert(r.name).second)
      return invalid("rules[" + std::to_string(i) + "]", "duplicate rule name \"" + r.name + "\"");
    fresh.rules.push_back(std::move(r));
  }
  out = std::move(fresh);
  return {};
}

fault parse_rules_json(std::string_view json, rule_set& out) {
  if (!json_depth_within(json))
    return make_fault(errc::bad_request, "invalid rule set: JSON nested deeper than "
                                           + std::to_string(max_json_depth) + " levels");
  pb::RateLimitRules msg;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(
    google::protobuf::StringPiece{json.data(), json.size()}, &msg, opts);
  if (!status.ok())
    return make_fault(errc::bad_request, "invalid rule set: " + std::string{status.message()});
  return compile_rules(msg, out);
}

fault parse_rules_toml(std::string_view toml_text, const std::string& origin, rule_set& out) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ": " << e.description();
    return make_fault(errc::bad_request, msg.str());
  }
  for (auto& [k, v] : doc)
    if (k != "rules")
      return make_fault(errc::bad_request,
                        origin + ": unknown top-level key \"" + std::string{k.str()} + "\"");
  // `rules = []` is the empty set (what PUT writes for {"rules":[]}); toml++ does not count an
  // empty array as an array of tables.
  if (auto* rules = doc.get("rules");
      rules && !rules->is_array_of_tables()
      && !(rules->is_array() && rules->as_array()->empty()))
    return make_fault(errc::bad_request, origin + ": rules must be [[rules]] tables");
  // One schema for both formats: TOML goes through the same JSON parser as the PUT body.
  std::ostringstream json;
  json << toml::json_formatter{doc};
  if (auto err = parse_rules_json(json.str(), out))
    return make_fault(errc::bad_request, origin + ": " + err.message);
  return {};
}

std::string to_toml(const rule_set& set) {
  toml::table doc;
  toml::array rules;
  for (auto& r : set.source.rules()) {
    toml::table t;
    t.insert("name", r.name());
    toml::table match;
    if (!r.match().path_prefix().empty())
      match.insert("path_prefix", r.match().path_prefix());
    if (!r.match().method().empty())
      match.insert("method", r.match().method());
    if (!r.match().frame().empty())
      match.insert("frame", r.match().frame());
    t.insert("match", std::move(match));
    t.insert("key", r.key());
    t.insert("algorithm", r.algorithm());
    if (r.algorithm() == "token_bucket") {
      t.insert("capacity", r.capacity());
      t.insert("refill_per_sec", r.refill_per_sec());
    } else {
      t.insert("limit", r.limit());
      t.insert("window_sec", r.window_sec());
    }
    if (!r.tiers().empty()) {
      toml::table tiers;
      for (auto& [name, tier] : r.tiers()) {
        toml::table tt;
        if (tier.limit())
          tt.insert("limit", tier.limit());
        if (tier.capacity())
          tt.insert("capacity", tier.capacity());
        if (tier.refill_per_sec() > 0)
          tt.insert("refill_per_sec", tier.refill_per_sec());
        tiers.insert(name, std::move(tt));
      }
      t.insert("tiers", std::move(tiers));
    }
    t.insert("mode", r.mode());
    t.insert("on_error", r.on_error());
    t.insert("scope", r.scope().empty() ? "node" : r.scope());
    rules.push_back(std::move(t));
  }
  doc.insert("rules", std::move(rules));
  std::ostringstream out;
  out << "# Written by PUT /api/v1/admin/ratelimits; docs/ratelimits.md explains each field.\n"
      << doc << "\n";
  return out.str();
}

} // namespace parley::limits
