// Field lookup in JSON text without parsing it into a message, for the load generator's hot
// path: a lease response with 100 leases would otherwise cost the client more CPU than the
// server spends on it, and client and server share the same cores. It finds `"key": value`
// pairs anywhere in the text, so it is only for bodies whose shape is known (our own answers);
// the worker, which is not on a hot path, parses with the protobuf JSON codec instead.
#pragma once

#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace parley::tools {

namespace detail {

// Position just after `"key"` followed by optional blanks and a colon, from `from`; npos if none.
inline size_t json_after_key(std::string_view json, std::string_view key, size_t from) {
  std::string quoted;
  quoted.reserve(key.size() + 2);
  quoted.append(1, '"').append(key).append(1, '"');
  for (;;) {
    auto at = json.find(quoted, from);
    if (at == std::string_view::npos)
      return at;
    auto i = at + quoted.size();
    auto skip_blanks = [&] {
      while (i < json.size() &&
             (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' || json[i] == '\t'))
        ++i;
    };
    skip_blanks();
    if (i < json.size() && json[i] == ':') {
      ++i;
      skip_blanks();
      return i;
    }
    from = at + 1;  // the text was a string value, not a key
  }
}

} // namespace detail

// Every string value of `key`, in order. Values are returned raw: escapes are not decoded
// (identifiers, tokens and timestamps never contain any).
inline std::vector<std::string_view> json_strings(std::string_view json, std::string_view key) {
  std::vector<std::string_view> out;
  size_t from = 0;
  for (;;) {
    auto i = detail::json_after_key(json, key, from);
    if (i == std::string_view::npos || i >= json.size())
      return out;
    from = i;
    if (json[i] != '"')
      continue;
    size_t end = i + 1;
    while (end < json.size() && json[end] != '"')
      end += json[end] == '\\' ? 2 : 1;
    if (end >= json.size())
      return out;
    out.push_back(json.substr(i + 1, end - i - 1));
    from = end + 1;
  }
}

// The first string value of `key`, or empty.
inline std::string json_string(std::string_view json, std::string_view key) {
  auto all = json_strings(json, key);
  return all.empty() ? std::string{} : std::string{all.front()};
}

// Every numeric value of `key`, in order; a number written as a string ("123", as protobuf
// prints 64-bit integers) counts too.
inline std::vector<double> json_numbers(std::string_view json, std::string_view key) {
  std::vector<double> out;
  size_t from = 0;
  std::string digits;
  for (;;) {
    auto i = detail::json_after_key(json, key, from);
    if (i == std::string_view::npos || i >= json.size())
      return out;
    if (json[i] == '"')
      ++i;
    auto end = i;
    while (end < json.size() && (std::isdigit(static_cast<unsigned char>(json[end])) ||
                                 json[end] == '-' || json[end] == '+' || json[end] == '.' ||
                                 json[end] == 'e' || json[end] == 'E'))
      ++end;
    if (end > i) {
      digits.assign(json.data() + i, end - i);
      out.push_back(std::strtod(digits.c_str(), nullptr));
    }
    from = end;
  }
}

} // namespace parley::tools
