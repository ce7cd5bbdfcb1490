#include "actors/feed/timeline_table.hpp"

#include "common/time_ordered_id.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::feed;

namespace {

timeline_entry entry(int64_t ms) {
  return timeline_entry::make(new_time_ordered_id(ms, 0, 1), ms);
}

} // namespace

TEST_CASE("fan-out skips users without an active timeline") {
  timeline_table t;
  CHECK(t.insert("bob", entry(10), 0, 500) == timeline_table::insert_result::inactive);
  std::vector<timeline_entry> out;
  CHECK_FALSE(t.read("bob", 100, 0, out));
  t.open("bob", 100);
  CHECK(t.insert("bob", entry(10), 50, 500) == timeline_table::insert_result::inserted);
  REQUIRE(t.read("bob", 200, 50, out));
  CHECK(out.size() == 1);
  // Not read since 200: inactive for a window starting at 300, and dropped by fan-out.
  CHECK(t.insert("bob", entry(20), 300, 500) == timeline_table::insert_result::inactive);
  CHECK(t.size() == 0);
}

TEST_CASE("timelines keep the newest entries, newest first, once each") {
  timeline_table t;
  t.open("bob", 0);
  auto a = entry(100), b = entry(200), c = entry(300), d = entry(400);
  for (auto& e : {a, c, b, d})  // out of order: inserted in place
    CHECK(t.insert("bob", e, 0, 3) == timeline_table::insert_result::inserted);
  CHECK(t.insert("bob", d, 0, 3) == timeline_table::insert_result::duplicate);
  std::vector<timeline_entry> out;
  REQUIRE(t.read("bob", 1, 0, out));
  REQUIRE(out.size() == 3);  // capped: the oldest (a) went
  CHECK(out[0] == d);
  CHECK(out[1] == c);
  CHECK(out[2] == b);
}

TEST_CASE("a rebuild merges what the store had with what fan-out added meanwhile") {
  timeline_table t;
  auto old1 = entry(100), old2 = entry(200), during = entry(300);
  t.open("bob", 1000);
  t.insert("bob", during, 0, 500);
  t.merge("bob", {old2, old1, during}, 500);
  std::vector<timeline_entry> out;
  REQUIRE(t.read("bob", 1001, 0, out));
  REQUIRE(out.size() == 3);
  CHECK(out[0] == during);
  CHECK(out[2] == old1);
  // Merging into a user without a timeline does nothing (the user is inactive).
  t.merge("carol", {old1}, 500);
  CHECK_FALSE(t.read("carol", 1001, 0, out));
}

TEST_CASE("the sweep drops timelines not read within the window") {
  timeline_table t;
  t.open("bob", 100);
  t.open("carol", 500);
  CHECK(t.evict_inactive(300) == 1);
  CHECK(t.size() == 1);
  std::vector<timeline_entry> out;
  CHECK(t.read("carol", 600, 300, out));
}
