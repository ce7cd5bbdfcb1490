// Reading records, shared by the stores: a record (or key) that does not parse is reported as
// corrupt (internal) with its family's name, never returned half-filled or skipped.
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

// What a scan_records visitor says about one entry.
enum class visit { next, stop, corrupt };

// engine::scan for visitors that may meet an entry that does not parse: the scan stops there and
// answers corrupt_record(fam); otherwise the engine's own status.
template <class Visitor>
fault scan_records(const engine& db, family fam, std::string_view from, std::string_view to,
                   Visitor visitor, size_t limit = 0) {
  bool corrupt = false;
  auto err = db.scan(
    fam, from, to,
    [&](std::string_view key, std::string_view value) {
      auto v = visitor(key, value);
      corrupt = v == visit::corrupt;
      return v == visit::next;
    },
    limit);
  if (err)
    return err;
  return corrupt ? corrupt_record(fam) : fault{};
}

} // namespace parley::storage
