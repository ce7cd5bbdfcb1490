// A JSON string literal for hand-written JSON (log lines, JWT payloads), escaping quotes,
// backslashes and control characters; invalid UTF-8 is replaced by U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace parley {

std::string json_quote(std::string_view s);

} // namespace parley
