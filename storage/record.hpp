// Reading one protobuf record by key, shared by the stores: a record that does not parse is
// reported as corrupt (internal) with its family's name, never returned half-filled.
#pragma once

#include "common/errc.hpp"
#include "storage/engine.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace parley::storage {

inline fault corrupt_record(family fam) {
  return make_fault(errc::internal,
                    "corrupt record in " + std::string{family_specs()[size_t(fam)].name});
}

template <class Message>
std::optional<Message> read_record(const engine& db, family fam, std::string_view key,
                                   fault& err) {
  auto raw = db.get(fam, key, err);
  if (!raw)
    return std::nullopt;
  Message m;
  if (!m.ParseFromString(*raw)) {
    err = corrupt_record(fam);
    return std::nullopt;
  }
  return m;
}

} // namespace parley::storage
