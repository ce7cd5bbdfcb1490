// A fast path for the small flat JSON objects of hot endpoints (the rate-limit check API):
// `{"name": "string" | integer | true | false | null, ...}` in ASCII. Anything else (nesting,
// arrays, fractions, \u escapes, non-ASCII) returns false and the caller falls back to the
// protobuf JSON parser, which stays the one schema and the source of error messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::net {

struct flat_json {
  struct field {
    std::string name;
    std::string value;  // strings unescaped, integers and literals as written
    bool quoted = false;  // a JSON string (not a number, true, false or null)
  };
  std::vector<field> fields;
};

bool parse_flat_json(std::string_view text, flat_json& out);

} // namespace parley::net
