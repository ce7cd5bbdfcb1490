// Big-endian composite keys whose byte order equals the order of their parts, so that RocksDB
// range scans serve the queries (`conversation|seq`, `shard|next_run_at|id`). Signed integers
// flip their sign bit; strings are escaped (0x00 -> 0x00 0xFF) and end with 0x00 0x01, so a
// shorter string sorts before its extensions and parts never bleed into each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::storage {

class key_builder {
public:
  key_builder& u8(uint8_t v);
  key_builder& u32(uint32_t v);
  key_builder& u64(uint64_t v);
  key_builder& i64(int64_t v);
  key_builder& str(std::string_view v);

  const std::string& bytes() const& { return out_; }
  std::string bytes() && { return std::move(out_); }

private:
  std::string out_;
};

// Reads parts back in the order they were written; each getter returns nullopt on malformed or
// truncated input instead of throwing, because keys come from disk.
class key_reader {
public:
  // Views `key` without copying it: the bytes must outlive the reader.
  explicit key_reader(std::string_view key) : in_(key) {}

  std::optional<uint8_t> u8();
  std::optional<uint32_t> u32();
  std::optional<uint64_t> u64();
  std::optional<int64_t> i64();
  std::optional<std::string> str();

  bool done() const { return in_.empty(); }

private:
  std::string_view in_;
};

// The smallest key greater than every key starting with `prefix` (for scan upper bounds);
// empty when no such key exists (prefix of all 0xFF).
std::string prefix_successor(std::string prefix);

} // namespace parley::storage
