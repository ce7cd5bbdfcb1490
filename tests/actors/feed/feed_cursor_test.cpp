#include "actors/feed/feed_cursor.hpp"

#include "common/time_ordered_id.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::feed;

TEST_CASE("cursors round-trip in their own mode") {
  feed_cursor c;
  c.mode = feed_mode::chronological;
  c.created_ms = 1764320000123;
  c.post_id = new_time_ordered_id(c.created_ms, 3, 16);
  feed_cursor back;
  REQUIRE_FALSE(parse_cursor(encode_cursor(c), feed_mode::chronological, back));
  CHECK(back.created_ms == c.created_ms);
  CHECK(back.post_id == c.post_id);

  feed_cursor r;
  r.mode = feed_mode::ranked;
  r.as_of_ms = 1764320000999;
  r.offset = 40;
  r.snapshot = new_snapshot_id();
  r.last_post_id = new_time_ordered_id(r.as_of_ms, 1, 16);
  REQUIRE_FALSE(parse_cursor(encode_cursor(r), feed_mode::ranked, back));
  CHECK(back.as_of_ms == r.as_of_ms);
  CHECK(back.offset == 40);
  CHECK(back.snapshot == r.snapshot);
  CHECK(back.last_post_id == r.last_post_id);
}

TEST_CASE("malformed cursors are bad requests") {
  feed_cursor out;
  for (auto text : {"", "x", "c", "c12", "c12.", "c-5.0123456789abcdefghjk", "cabc.0123456789abcdefghjk",
                    "c12.0123456789ABCDEFGHJK", "c12.short", "r1.2", "r1.2.3.4", "r1.x.abcdefghjkmn.0123456789abcdefghjk",
                    "r1.2.abcdefghjkmn", "r1.2.abc.0123456789abcdefghjk",
                    "r1.2.abcdefghjkmn.short", "r99999999999999999999.1.abcdefghjkmn.0123456789abcdefghjk", "c12.0123456789abcdefghjk.x"}) {
    INFO(text);
    auto mode = text[0] == 'r' ? feed_mode::ranked : feed_mode::chronological;
    CHECK(parse_cursor(text, mode, out).code == errc::bad_request);
  }
}

TEST_CASE("a cursor of the other mode is refused with a hint") {
  feed_cursor c;
  c.created_ms = 5;
  c.post_id = new_time_ordered_id(5, 0, 16);
  feed_cursor out;
  auto err = parse_cursor(encode_cursor(c), feed_mode::ranked, out);
  CHECK(err.code == errc::bad_request);
  CHECK(err.message.find("chronological") != std::string::npos);
}
