// Reading records, shared by the stores: a record (or key) that does not parse is reported as
// corrupt (internal) with its family's name and key, logged and counted where it is found, never
// returned half-filled, skipped or taken for an absent one.
#pragma once

#include "common/errc.hpp"
#include "common/result.hpp"
#include "storage/engine.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::storage {

// `key` with every byte outside printable ASCII (and the backslash) as \xNN, at most ~200
// characters of it: for messages and logs.
std::string printable_key(std::string_view key);

// The fault for an entry of `fam` under `key` that does not parse: internal, naming the family
// and the key. Logs one warning with both and counts it in
// parley_storage_corrupt_records_total{family}; call it once per entry found corrupt.
fault corrupt_record(family fam, std::string_view key);

// The raw value under `key`: nullopt when absent, the engine's fault when it cannot be read.
result<std::optional<std::string>> read_value(const engine& db, family fam, std::string_view key);

// True when there is an entry under `key` (a set member, an edge, a taken key); its value is not
// looked at.
result<bool> has_record(const engine& db, family fam, std::string_view key);

// A count or cursor stored as 8 big-endian bytes (key_codec's u64): 0 when absent,
// corrupt_record() when the value is anything else.
result<uint64_t> read_u64(const engine& db, family fam, std::string_view key);

// The record under `key`: nullopt when absent, corrupt_record() when it does not parse.
template <class Message>
result<std::optional<Message>> read_record(const engine& db, family fam, std::string_view key) {
  auto raw = read_value(db, fam, key);
  if (!raw)
    return std::move(raw).take_error();
  if (!*raw)
    return std::optional<Message>{};
  Message m;
  if (!m.ParseFromString(**raw))
    return corrupt_record(fam, key);
  return std::optional<Message>{std::move(m)};
}

// What a scan_records visitor says about one entry.
enum class visit { next, stop, corrupt };

// engine::scan for visitors that may meet an entry that does not parse: the scan stops there and
// answers corrupt_record(fam, key of that entry); otherwise the engine's own status.
template <class Visitor>
fault scan_records(const engine& db, family fam, std::string_view from, std::string_view to,
                   Visitor visitor, size_t limit = 0, bool reverse = false,
                   const snapshot_view* at = nullptr) {
  bool corrupt = false;
  std::string corrupt_key;
  auto fn = [&](std::string_view key, std::string_view value) {
    auto v = visitor(key, value);
    if (v == visit::corrupt) {
      corrupt = true;
      corrupt_key.assign(key);
    }
    return v == visit::next;
  };
  auto err = reverse ? db.scan_reverse(fam, from, to, fn, limit, at)
                     : db.scan(fam, from, to, fn, limit, at);
  if (err)
    return err;
  return corrupt ? corrupt_record(fam, corrupt_key) : fault{};
}

} // namespace parley::storage
