#include "actors/feed/post_cache.hpp"

#include "common/clock.hpp"
#include "common/time_ordered_id.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::feed;

namespace {

post_ptr post(const std::string& text) {
  auto p = std::make_shared<pb::StoredPost>();
  p->set_text(text);
  return p;
}

} // namespace

TEST_CASE("post cache: writers overwrite, readers only fill gaps, deletes are remembered") {
  post_cache cache{1024};
  auto id = new_time_ordered_id(1000, 0, 1);
  CHECK_FALSE(cache.find(id));
  cache.put_if_absent(id, post("from store"));
  CHECK((*cache.find(id))->text() == "from store");
  cache.put(id, post("after a like"));
  cache.put_if_absent(id, post("stale read"));  // a racing reader does not win
  CHECK((*cache.find(id))->text() == "after a like");
  cache.put(id, nullptr);  // deleted
  auto hit = cache.find(id);
  REQUIRE(hit);
  CHECK(*hit == nullptr);
  cache.put_if_absent(id, post("resurrected"));
  CHECK(*cache.find(id) == nullptr);
  CHECK_FALSE(cache.find("not-a-post-id"));
}

TEST_CASE("post cache: bounded, and entries hit recently survive eviction") {
  post_cache cache{64 * 4};  // 4 per shard
  std::vector<std::string> ids;
  for (int i = 0; i < 4000; ++i)
    ids.push_back(new_time_ordered_id(1000 + i, 0, 1));
  auto hot = ids[0];
  cache.put(hot, post("hot"));
  size_t kept = 0;
  for (size_t i = 1; i < ids.size(); ++i) {
    cache.put(ids[i], post("cold"));
    cache.find(hot);  // keeps its second chance
  }
  for (auto& id : ids)
    kept += cache.find(id) ? 1 : 0;
  CHECK(kept <= 64 * 4);
  CHECK(cache.find(hot));
}

TEST_CASE("post cache: another node's copy is used until it expires and never hides this node's record") {
  post_cache cache{1024};
  auto id = new_time_ordered_id(1000, 0, 1);
  auto later = unix_ms() + 60'000;
  cache.put_remote(id, post("copy"), later);
  CHECK((*cache.find(id))->text() == "copy");
  cache.put_remote(id, post("newer copy"), later);
  CHECK((*cache.find(id))->text() == "newer copy");
  cache.put(id, post("owner's"));  // this node's post shard wrote it: the copy gives way
  cache.put_remote(id, post("late copy"), later);
  CHECK((*cache.find(id))->text() == "owner's");

  auto other = new_time_ordered_id(1001, 0, 1);
  cache.put_remote(other, post("old copy"), unix_ms() - 1);  // expired already
  CHECK_FALSE(cache.find(other));
  cache.put_if_absent(other, post("read again"));  // a reader's fill replaces an expired copy
  CHECK((*cache.find(other))->text() == "read again");
}
