#include "storage/key_codec.hpp"

namespace parley::storage {

namespace {

template <class T>
void put_big_endian(std::string& out, T v) {
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

template <class T>
std::optional<T> get_big_endian(std::string_view& in) {
  if (in.size() < sizeof(T))
    return std::nullopt;
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v = static_cast<T>((v << 8) | static_cast<uint8_t>(in[i]));
  in.remove_prefix(sizeof(T));
  return v;
}

constexpr uint64_t sign_bit = uint64_t{1} << 63;

} // namespace

key_builder& key_builder::u8(uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}

key_builder& key_builder::u32(uint32_t v) {
  put_big_endian(out_, v);
  return *this;
}

key_builder& key_builder::u64(uint64_t v) {
  put_big_endian(out_, v);
  return *this;
}

key_builder& key_builder::i64(int64_t v) {
  put_big_endian(out_, static_cast<uint64_t>(v) ^ sign_bit);
  return *this;
}

key_builder& key_builder::str(std::string_view v) {
  for (char c : v) {
    out_.push_back(c);
    if (c == '\0')
      out_.push_back(static_cast<char>(0xFF));
  }
  out_.push_back('\0');
  out_.push_back('\x01');
  return *this;
}

std::optional<uint8_t> key_reader::u8() {
  return get_big_endian<uint8_t>(in_);
}

std::optional<uint32_t> key_reader::u32() {
  return get_big_endian<uint32_t>(in_);
}

std::optional<uint64_t> key_reader::u64() {
  return get_big_endian<uint64_t>(in_);
}

std::optional<int64_t> key_reader::i64() {
  auto raw = get_big_endian<uint64_t>(in_);
  if (!raw)
    return std::nullopt;
  return static_cast<int64_t>(*raw ^ sign_bit);
}

std::optional<std::string> key_reader::str() {
  std::string out;
  for (size_t i = 0; i < in_.size(); ++i) {
    if (in_[i] != '\0') {
      out.push_back(in_[i]);
      continue;
    }
    if (i + 1 >= in_.size())
      return std::nullopt;
    auto next = static_cast<uint8_t>(in_[i + 1]);
    if (next == 0x01) {
      in_.remove_prefix(i + 2);
      return out;
    }
    if (next != 0xFF)
      return std::nullopt;
    out.push_back('\0');
    ++i;
  }
  return std::nullopt;
}

std::string prefix_successor(std::string prefix) {
  while (!prefix.empty()) {
    auto last = static_cast<uint8_t>(prefix.back());
    if (last != 0xFF) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

} // namespace parley::storage
