// The public error codes of PROTOCOL.md and the small result types that carry them through the
// data path (no exceptions there). Each layer converts its foreign errors into these once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace parley {

enum class errc : uint8_t {
  none = 0,
  bad_request,
  unauthorized,
  forbidden,
  not_found,
  conflict,
  gone,
  too_large,
  rate_limited,
  unavailable,
  internal,
  method_not_allowed,  // 405, answered with `Allow`
};

// The wire name of a code, e.g. "bad_request".
std::string_view to_string(errc code);

// The HTTP status that goes with a code, e.g. 400 for bad_request.
int http_status(errc code);

// A failure with its public code and a message meant for humans.
struct [[nodiscard]] fault {
  errc code = errc::none;
  std::string message;

  explicit operator bool() const { return code != errc::none; }
};

inline fault make_fault(errc code, std::string message) {
  return fault{code, std::move(message)};
}

} // namespace parley
