// A fast path for the small flat JSON objects of hot endpoints (the rate-limit check API):
// `{"name": "string" | integer | true | false | null, ...}` in ASCII. Anything else (nesting,
// arrays, fractions, \u escapes, non-ASCII) returns false and the caller falls back to the
// protobuf JSON parser, which stays the one schema and the source of error messages.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::net {

struct flat_json {
  // (name, value): strings unescaped, integers and literals as written.
  std::vector<std::pair<std::string, std::string>> fields;

  // The value of `name`, or nullptr.
  const std::string* get(std::string_view name) const;
};

bool parse_flat_json(std::string_view text, flat_json& out);

} // namespace parley::net
