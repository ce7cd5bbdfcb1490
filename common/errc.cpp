#include "common/errc.hpp"

namespace parley {

std::string_view to_string(errc code) {
  switch (code) {
    case errc::none: return "none";
    case errc::bad_request: return "bad_request";
    case errc::unauthorized: return "unauthorized";
    case errc::forbidden: return "forbidden";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::gone: return "gone";
    case errc::too_large: return "too_large";
    case errc::rate_limited: return "rate_limited";
    case errc::unavailable: return "unavailable";
    case errc::internal: return "internal";
    case errc::method_not_allowed: return "method_not_allowed";
  }
  return "internal";
}

int http_status(errc code) {
  switch (code) {
    case errc::none: return 200;
    case errc::bad_request: return 400;
    case errc::unauthorized: return 401;
    case errc::forbidden: return 403;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::gone: return 410;
    case errc::too_large: return 413;
    case errc::rate_limited: return 429;
    case errc::unavailable: return 503;
    case errc::internal: return 500;
    case errc::method_not_allowed: return 405;
  }
  return 500;
}

} // namespace parley
