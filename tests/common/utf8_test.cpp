// Outside text is made valid UTF-8 and cut without splitting a character.
#include "common/utf8.hpp"

#include <catch2/catch.hpp>

using parley::valid_utf8;

TEST_CASE("valid text passes unchanged, invalid bytes become U+FFFD") {
  CHECK(valid_utf8("plain é ✓ 😀", 100) == "plain é ✓ 😀");
  CHECK(valid_utf8("a\xFF" "b", 100) == "a\xEF\xBF\xBD" "b");
  CHECK(valid_utf8("\xC3", 100) == "\xEF\xBF\xBD");               // truncated sequence
  CHECK(valid_utf8("\xC0\xAF", 100) == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  CHECK(valid_utf8("\xED\xA0\x80", 100).find("\xED") == std::string::npos);  // surrogate
}

TEST_CASE("cutting never splits a character") {
  CHECK(valid_utf8("abcé", 4) == "abc");
  CHECK(valid_utf8("abcé", 5) == "abcé");
  CHECK(valid_utf8("😀😀", 7) == "😀");
  CHECK(valid_utf8("", 0).empty());
}
