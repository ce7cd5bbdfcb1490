#include "common/json_depth.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace parley;

namespace {

std::string nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

} // namespace

TEST_CASE("JSON up to 64 levels passes the depth check, one more does not") {
  CHECK(json_depth_within(nested(64)));
  CHECK_FALSE(json_depth_within(nested(65)));
  CHECK(json_depth_within(R"({"a":)" + nested(63) + "}"));
  CHECK_FALSE(json_depth_within(R"({"a":)" + nested(64) + "}"));
  CHECK_FALSE(json_depth_within(std::string(200000, '{')));
  CHECK(json_depth_within(""));
  CHECK(json_depth_within("{}"));
}

TEST_CASE("brackets inside strings, escaped quotes included, do not count") {
  auto in_string = "\"" + std::string(1000, '[') + "\"";
  CHECK(json_depth_within("[" + in_string + "]"));
  // An escaped quote does not end the string: the brackets after it are still text.
  CHECK(json_depth_within(R"(["a\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["])"));
  // An escaped backslash does end it: these brackets count.
  CHECK_FALSE(json_depth_within(R"(["a\\",)" + nested(64) + "]"));
  CHECK(json_depth_within("[[1,2],[3,[4]]]", 3));
  CHECK_FALSE(json_depth_within("[[1,2],[3,[4]]]", 2));
}

TEST_CASE("a 1 MiB body of brackets, deep or wide, is judged in one pass") {
  CHECK_FALSE(json_depth_within(std::string(1 << 20, '[')));
  std::string wide;
  for (int i = 0; i < 100000; ++i)
    wide += "[[[1]]],";
  CHECK(json_depth_within("[" + wide + "0]"));
}
