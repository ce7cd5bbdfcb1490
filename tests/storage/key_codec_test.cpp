#include "storage/key_codec.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

using namespace parley::storage;

TEST_CASE("unsigned integers encode in numeric order") {
  std::mt19937_64 rng{42};
  std::vector<uint64_t> values{0, 1, 255, 256, 65535, 65536, UINT64_MAX};
  for (int i = 0; i < 1000; ++i)
    values.push_back(rng() >> (rng() % 64));
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    auto a = values[i], b = values[i + 1];
    auto ka = key_builder{}.u64(a).bytes();
    auto kb = key_builder{}.u64(b).bytes();
    CHECK((a < b) == (ka < kb));
  }
}

TEST_CASE("signed integers encode in numeric order, negatives first") {
  std::vector<int64_t> values{INT64_MIN, -1000000, -1, 0, 1, 42, INT64_MAX};
  for (size_t i = 0; i + 1 < values.size(); ++i)
    CHECK(key_builder{}.i64(values[i]).bytes() < key_builder{}.i64(values[i + 1]).bytes());
  auto key = key_builder{}.i64(-5).bytes();
  key_reader r{key};
  CHECK(r.i64() == -5);
}

TEST_CASE("composite keys sort by their first part, then the next") {
  auto k = [](const std::string& conv, uint64_t seq) {
    return key_builder{}.str(conv).u64(seq).bytes();
  };
  CHECK(k("a", 2) < k("a", 10));
  CHECK(k("a", UINT64_MAX) < k("ab", 0));  // a string never bleeds into the next part
  CHECK(k("", 5) < k("a", 0));
}

TEST_CASE("strings with zero bytes round-trip and keep their order") {
  std::string with_zero{"a\0b", 3};
  auto key = key_builder{}.str(with_zero).u32(7).bytes();
  key_reader r{key};
  CHECK(r.str() == with_zero);
  CHECK(r.u32() == 7u);
  CHECK(r.done());
  CHECK(key_builder{}.str(std::string{"a\0", 2}).bytes() < key_builder{}.str("a\x01").bytes());
  CHECK(key_builder{}.str("a").bytes() < key_builder{}.str(std::string{"a\0", 2}).bytes());
}

TEST_CASE("a truncated or corrupt key reads as nullopt instead of throwing") {
  key_reader short_int{"\x01\x02"};
  CHECK_FALSE(short_int.u64().has_value());
  key_reader open_string{"abc"};
  CHECK_FALSE(open_string.str().has_value());
  // The reader views its key: the bytes must outlive it (a temporary std::string would not).
  const std::string bad_escape_key{"a\0\x07", 3};
  key_reader bad_escape{bad_escape_key};
  CHECK_FALSE(bad_escape.str().has_value());
}

TEST_CASE("prefix_successor bounds a prefix scan") {
  CHECK(prefix_successor("ab") == "ac");
  CHECK(prefix_successor("a\xff") == "b");
  CHECK(prefix_successor("\xff\xff").empty());
}
