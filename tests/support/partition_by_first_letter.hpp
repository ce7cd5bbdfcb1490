// A record partitioner for storage tests: partition = the first byte of the record owner's id,
// node records none. Enough to tell records of different owners apart.
#pragma once

#include "storage/record_owner.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace parley::test {

inline result<std::optional<uint32_t>> by_first_letter(storage::family fam,
                                                       std::string_view key) {
  auto owner = storage::owner_of_record(fam, key);
  if (!owner)
    return std::move(owner).take_error();
  if (owner->what == storage::record_owner::kind::node)
    return std::optional<uint32_t>{};
  return std::optional<uint32_t>{static_cast<uint32_t>(owner->id.front())};
}

} // namespace parley::test
