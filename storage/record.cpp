#include "storage/record.hpp"

#include "common/metrics.hpp"
#include "storage/key_codec.hpp"

#include <spdlog/spdlog.h>

namespace parley::storage {

namespace {

constexpr size_t printable_key_max = 200;  // characters of the key shown; longer ones end in ...

metrics::counter& corrupt_counter(family fam) {
  // One series per family, registered on first use (families are few and fixed).
  return metrics::global().get_counter(
    "storage_corrupt_records_total", "Stored records or keys found corrupt when read",
    "family=\"" + std::string{family_specs()[size_t(fam)].name} + "\"");
}

} // namespace

std::string printable_key(std::string_view key) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : key) {
    if (out.size() >= printable_key_max) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    }
  }
  return out;
}

fault corrupt_record(family fam, std::string_view key) {
  auto name = family_specs()[size_t(fam)].name;
  auto message = "corrupt record in " + std::string{name} + " under key \"" + printable_key(key)
                 + "\"";
  spdlog::warn("storage: {}", message);
  corrupt_counter(fam).inc();
  return make_fault(errc::internal, std::move(message));
}

result<std::optional<std::string>> read_value(const engine& db, family fam, std::string_view key) {
  fault err;
  auto raw = db.get(fam, key, err);
  if (err)
    return err;
  return raw;
}

result<bool> has_record(const engine& db, family fam, std::string_view key) {
  auto raw = read_value(db, fam, key);
  if (!raw)
    return std::move(raw).take_error();
  return raw->has_value();
}

result<uint64_t> read_u64(const engine& db, family fam, std::string_view key) {
  auto raw = read_value(db, fam, key);
  if (!raw)
    return std::move(raw).take_error();
  if (!*raw)
    return uint64_t{0};
  key_reader r{**raw};
  auto v = r.u64();
  if (!v || !r.done())
    return corrupt_record(fam, key);
  return *v;
}

} // namespace parley::storage
