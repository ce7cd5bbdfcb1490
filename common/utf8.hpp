// Text from outside (a worker's error, an HTTP response body) made safe to store in a protobuf
// string field, whose parser refuses invalid UTF-8: a record holding it could never be read back.
#pragma once

#include <string>
#include <string_view>

namespace parley {

// `in` with every invalid UTF-8 sequence replaced by U+FFFD, cut to at most `max_bytes` without
// splitting a character.
std::string valid_utf8(std::string_view in, size_t max_bytes);

// `in` with every invalid UTF-8 sequence replaced by U+FFFD, whole (it may grow up to 3x).
std::string valid_utf8(std::string_view in);

// True when `s` is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
// Text arriving in binary WebSocket frames or protobuf bodies is not checked anywhere else.
bool is_valid_utf8(std::string_view s);

} // namespace parley
