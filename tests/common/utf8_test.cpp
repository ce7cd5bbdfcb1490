// Outside text is made valid UTF-8 and cut without splitting a character; the one validator
// refuses every form of Markus Kuhn's UTF-8 decoder stress test (sections 3-5).
#include "common/utf8.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using parley::is_valid_utf8;
using parley::valid_utf8;

namespace {

const std::string fffd = "\xEF\xBF\xBD";

// Kuhn's malformed sequences, each refused whole and never let through by valid_utf8.
const std::vector<std::string>& malformed() {
  static const std::vector<std::string> vectors = {
    // 3.1 unexpected continuation bytes
    "\x80", "\xBF", "\x80\xBF", "\x80\xBF\x80", "\x80\xBF\x80\xBF",
    // 3.2 lonely start characters (each followed by a space)
    "\xC0 ", "\xDF ", "\xE0 ", "\xEF ", "\xF0 ", "\xF7 ", "\xF8 ", "\xFB ", "\xFC ", "\xFD ",
    // 3.3 sequences with the last continuation byte missing
    "\xC0", "\xE0\x80", "\xF0\x80\x80", "\xF8\x80\x80\x80", "\xFC\x80\x80\x80\x80",
    "\xDF", "\xEF\xBF", "\xF7\xBF\xBF", "\xFB\xBF\xBF\xBF", "\xFD\xBF\xBF\xBF\xBF",
    "\xC3", "\xE2\x82", "\xF0\x9F\x98",
    // 3.5 impossible bytes
    "\xFE", "\xFF", "\xFE\xFE\xFF\xFF",
    // 4.1 overlong ASCII '/'
    "\xC0\xAF", "\xE0\x80\xAF", "\xF0\x80\x80\xAF", "\xF8\x80\x80\x80\xAF",
    "\xFC\x80\x80\x80\x80\xAF",
    // 4.2 maximum overlong sequences
    "\xC1\xBF", "\xE0\x9F\xBF", "\xF0\x8F\xBF\xBF", "\xF8\x87\xBF\xBF\xBF",
    "\xFC\x83\xBF\xBF\xBF\xBF",
    // 4.3 overlong NUL
    "\xC0\x80", "\xE0\x80\x80", "\xF0\x80\x80\x80", "\xF8\x80\x80\x80\x80",
    "\xFC\x80\x80\x80\x80\x80",
    // beyond U+10FFFF
    "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF7\xBF\xBF\xBF",
    // 5.1 single UTF-16 surrogates
    "\xED\xA0\x80", "\xED\xAD\xBF", "\xED\xAE\x80", "\xED\xAF\xBF", "\xED\xB0\x80",
    "\xED\xBE\x80", "\xED\xBF\xBF",
    // 5.2 paired UTF-16 surrogates
    "\xED\xA0\x80\xED\xB0\x80", "\xED\xAF\xBF\xED\xBF\xBF",
  };
  return vectors;
}

} // namespace

TEST_CASE("valid text passes unchanged, invalid bytes become U+FFFD") {
  CHECK(valid_utf8("plain é ✓ 😀", 100) == "plain é ✓ 😀");
  CHECK(valid_utf8("a\xFF" "b", 100) == "a" + fffd + "b");
  CHECK(valid_utf8("\xC3", 100) == fffd);                // truncated sequence
  CHECK(valid_utf8("\xC0\xAF", 100) == fffd + fffd);     // overlong
  CHECK(valid_utf8("\xED\xA0\x80", 100) == fffd + fffd + fffd);  // surrogate
}

TEST_CASE("cutting never splits a character") {
  CHECK(valid_utf8("abcé", 4) == "abc");
  CHECK(valid_utf8("abcé", 5) == "abcé");
  CHECK(valid_utf8("😀😀", 7) == "😀");
  CHECK(valid_utf8("", 0).empty());
}

TEST_CASE("without a limit every invalid byte is replaced and nothing is cut") {
  CHECK(valid_utf8("\xFF\xFE") == fffd + fffd);
  CHECK(valid_utf8("ok \xE0\x80\xAF ok") == "ok " + fffd + fffd + fffd + " ok");
  CHECK(valid_utf8("").empty());
}

TEST_CASE("boundary code points are accepted") {
  // Kuhn 2.1-2.3: first and last of each length, and the edges of the surrogate gap.
  for (std::string s : {"\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
                        "\xEE\x80\x80", "\xEF\xBF\xBD", "\xEF\xBF\xBF", "\xF0\x90\x80\x80",
                        "\xF4\x8F\xBF\xBF"}) {
    CAPTURE(s);
    CHECK(is_valid_utf8(s));
    CHECK(valid_utf8(s) == s);
  }
  CHECK(is_valid_utf8(std::string(1, '\0')));
  CHECK(is_valid_utf8(""));
}

TEST_CASE("Kuhn's malformed sequences are refused and replaced") {
  for (auto& bad : malformed()) {
    CAPTURE(bad);
    CHECK_FALSE(is_valid_utf8(bad));
    CHECK_FALSE(is_valid_utf8("ok " + bad + " ok"));
    auto repaired = valid_utf8(bad);
    CHECK(is_valid_utf8(repaired));
    CHECK(repaired.find(fffd) != std::string::npos);
  }
}
