// A guard that runs before any JSON parser: protobuf's JSON parser takes time quadratic in the
// nesting depth of free-form values (a 200 KB body of nested arrays held an io thread for
// minutes), so every JSON entry point checks the depth first, in one linear pass.
#pragma once

#include <cstddef>
#include <string_view>

namespace parley {

// PROTOCOL.md: JSON nested deeper than this is refused before any parsing work.
inline constexpr size_t max_json_depth = 64;

// True when no array or object in `text` nests deeper than `max_depth` levels. Brackets inside
// strings do not count. It does not validate the text: a parser still does that afterwards.
bool json_depth_within(std::string_view text, size_t max_depth = max_json_depth);

} // namespace parley
