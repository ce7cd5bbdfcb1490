#include "storage/record.hpp"

#include "common/metrics.hpp"

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

} // namespace parley::storage
