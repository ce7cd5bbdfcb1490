// Rate-limit rules (PROTOCOL.md, Rate limiting): parsed from TOML (configs/ratelimits.toml) or
// the JSON body of PUT /api/v1/admin/ratelimits, validated as a whole (one bad rule rejects
// the set), and compiled into the numbers the algorithms use.
#pragma once

#include "actors/limits/algorithms.hpp"
#include "common/errc.hpp"
#include "proto/parley.pb.h"

#include <map>
#include <string>
#include <vector>

namespace parley::limits {

enum class key_kind : uint8_t { ip, user, api_key, global, connection };

struct rule {
  std::string name;
  // What the rule applies to: an HTTP path prefix (and method, empty for any), or a WebSocket
  // frame kind. A rule with a frame never matches HTTP, and the other way round.
  std::string path_prefix;
  std::string method;
  std::string frame;
  key_kind key = key_kind::ip;
  limit_params base;
  std::map<std::string, limit_params, std::less<>> tiers;
  bool simulate = false;       // mode = simulate: count and log, never reject
  bool deny_on_error = false;  // on_error = deny
  // scope = cluster: a key is counted once for the whole cluster, at the node that owns it
  // (partition_of(key)'s primary); node (default): each node counts what it sees.
  bool cluster_scope = false;

  const limit_params& params_for(std::string_view tier) const;
  // Window in whole seconds, for the RateLimit-Policy header.
  static int64_t window_sec(const limit_params& p);
};

struct rule_set {
  std::vector<rule> rules;
  pb::RateLimitRules source;  // normalized (defaults filled in), shown by GET
};

// Validates and compiles; on failure `out` is untouched and the fault names the rule and field.
fault compile_rules(const pb::RateLimitRules& in, rule_set& out);

// The JSON body {"rules":[...]} (protobuf JSON mapping).
fault parse_rules_json(std::string_view json, rule_set& out);

// A TOML document with [[rules]] tables; `origin` names the file in messages.
fault parse_rules_toml(std::string_view toml_text, const std::string& origin, rule_set& out);

// The set as TOML that parse_rules_toml reads back (PUT writes it to the rules file).
std::string to_toml(const rule_set& set);

} // namespace parley::limits
