#include "actors/runtime/errors.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace parley {

caf::error make_error(errc code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(message))};
}

caf::error make_error(const fault& f) {
  return make_error(f.code, f.message);
}

fault to_fault(const caf::error& err) {
  if (!err)
    return {};
  if (err.category() == error_category) {
    std::string message;
    if (err.context().match_elements<std::string>())
      message = err.context().get_as<std::string>(0);
    return make_fault(static_cast<errc>(err.code()), std::move(message));
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_receiver_down:
      case caf::sec::request_timeout:
        return make_fault(errc::unavailable, caf::to_string(static_cast<caf::sec>(err.code())));
      default:
        break;
    }
  }
  return make_fault(errc::internal, "actor error " + std::to_string(err.code()));
}

std::string caf_error_renderer::render(uint8_t code, caf::atom_value, const caf::message& context) {
  std::string out{to_string(static_cast<errc>(code))};
  if (context.match_elements<std::string>())
    out += ": " + context.get_as<std::string>(0);
  return out;
}

} // namespace parley
