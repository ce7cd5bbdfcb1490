#include "actors/feed/feed_rules.hpp"

#include "common/time_ordered_id.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::feed;

namespace {

timeline_entry entry(int64_t ms, uint32_t salt = 0) {
  // Distinct valid ids at a given time.
  auto id = new_time_ordered_id(ms, salt % 16, 16);
  return timeline_entry::make(id, ms);
}

std::vector<std::string> ids(const std::vector<timeline_entry>& xs) {
  std::vector<std::string> out;
  for (auto& x : xs)
    out.push_back(x.post_id());
  return out;
}

} // namespace

TEST_CASE("fan-out below the celebrity threshold, pull at or above it") {
  CHECK(fans_out(0, 10000));
  CHECK(fans_out(9999, 10000));
  CHECK_FALSE(fans_out(10000, 10000));
  CHECK_FALSE(fans_out(1'000'000, 10000));
  CHECK_FALSE(fans_out(1, 1));
}

TEST_CASE("post text: 1..5000 characters of valid UTF-8") {
  CHECK_FALSE(check_text("hello", "text"));
  CHECK(check_text("", "text").code == errc::bad_request);
  CHECK(check_text("", "text").message.find("text") != std::string::npos);
  CHECK_FALSE(check_text(std::string(5000, 'a'), "text"));
  CHECK(check_text(std::string(5001, 'a'), "text").code == errc::bad_request);
  // Characters, not bytes: 5000 three-byte characters are fine.
  std::string euros;
  for (int i = 0; i < 5000; ++i)
    euros += "\xE2\x82\xAC";
  CHECK_FALSE(check_text(euros, "text"));
  CHECK(check_text(euros + "\xE2\x82\xAC", "text").code == errc::bad_request);
  CHECK(check_text("bad \xC3\x28 byte", "text").code == errc::bad_request);
}

TEST_CASE("media urls: at most 4 absolute http(s) URLs") {
  CHECK_FALSE(check_media_urls({}));
  CHECK_FALSE(check_media_urls({"https://cdn.example/a.png", "http://x.example/b?c=1"}));
  CHECK(check_media_urls({"ftp://x.example/a"}).code == errc::bad_request);
  CHECK(check_media_urls({"https://"}).code == errc::bad_request);
  CHECK(check_media_urls({"https://x.example/a b"}).code == errc::bad_request);
  CHECK(check_media_urls({"https://user@x.example/"}).code == errc::bad_request);
  CHECK(check_media_urls({"javascript:alert(1)"}).code == errc::bad_request);
  CHECK(check_media_urls({"http://:/"}).code == errc::bad_request);
  CHECK(check_media_urls({"http://<x>/"}).code == errc::bad_request);
  CHECK(check_media_urls({"http://x.example:99999999/"}).code == errc::bad_request);
  CHECK_FALSE(check_media_urls({"http://x.example:8080/a", "https://[::1]:443/b", "http://10.0.0.1"}));
  CHECK(check_media_urls({"https://x.example/" + std::string(2100, 'a')}).code
        == errc::bad_request);
  std::vector<std::string> five(5, "https://x.example/a.png");
  auto err = check_media_urls(five);
  CHECK(err.code == errc::bad_request);
  CHECK(err.message.find("at most 4") != std::string::npos);
  auto second = check_media_urls({"https://ok.example/", "nope"});
  CHECK(second.message.find("media_urls[1]") != std::string::npos);
}

TEST_CASE("merge: timeline and pulled posts, newest first, without duplicates") {
  auto a = entry(1000, 1), b = entry(2000, 2), c = entry(3000, 3), d = entry(2500, 4);
  std::vector<timeline_entry> timeline{c, b, a};
  auto merged = merge_candidates(timeline, {d, b}, 500);
  REQUIRE(merged.size() == 4);
  CHECK(ids(merged) == ids({c, d, b, a}));
  CHECK(merge_candidates({}, {}, 500).empty());
  // The feed's depth: only the newest `cap` survive.
  CHECK(ids(merge_candidates(timeline, {d, b}, 2)) == ids({c, d}));
  // Equal times are ordered by id so that pages are stable.
  auto e = entry(5000, 5), f = entry(5000, 6);
  auto tied = merge_candidates({e}, {f}, 500);
  CHECK(tied[0].id > tied[1].id);
}

TEST_CASE("chronological cursor: the next page starts strictly after the last item served") {
  std::vector<timeline_entry> feed{entry(5000, 1), entry(4000, 2), entry(3000, 3),
                                   entry(2000, 4), entry(1000, 5)};
  feed_cursor after;
  after.created_ms = feed[1].created_ms;
  after.post_id = feed[1].post_id();
  CHECK(chronological_start(feed, after) == 2);
  // New posts arriving at the front do not move the position.
  auto grown = feed;
  grown.insert(grown.begin(), entry(9000, 7));
  CHECK(grown[chronological_start(grown, after)].post_id() == feed[2].post_id());
  // The item served last was deleted meanwhile: the position still holds.
  auto shrunk = feed;
  shrunk.erase(shrunk.begin() + 1);
  CHECK(shrunk[chronological_start(shrunk, after)].post_id() == feed[2].post_id());
  after.created_ms = 0;
  after.post_id = std::string(20, '0');
  CHECK(chronological_start(feed, after) == feed.size());
}
