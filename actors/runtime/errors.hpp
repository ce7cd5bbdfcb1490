// parley::errc as a CAF error category, so actors answer requests with the public codes.
#pragma once

#include "common/errc.hpp"

#include <caf/error.hpp>
#include <caf/atom.hpp>

#include <string>

namespace parley {

constexpr caf::atom_value error_category = caf::atom("parley");

// A CAF error carrying `code` and a human message.
caf::error make_error(errc code, std::string message);
caf::error make_error(const fault& f);

// Reads a CAF error back: parley errors keep their code and message; CAF's own errors (a dead
// receiver, a timeout) become `unavailable`, anything else `internal`.
fault to_fault(const caf::error& err);

// Registers the category with the actor system so errors print readably in logs.
class caf_error_renderer {
public:
  static std::string render(uint8_t code, caf::atom_value category,
                            const caf::message& context);
};

} // namespace parley
