#include "actors/chat/group_quota.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace parley;
using namespace parley::chat;

namespace {

struct fixture {
  std::map<std::string, size_t> stored;  // what "storage" says
  int loads = 0;
  group_quota::options opts;
  std::unique_ptr<group_quota> quota;

  explicit fixture(int64_t per_hour = 3, size_t per_user = 2) {
    opts.max_created_per_hour = per_hour;
    opts.max_groups_per_user = per_user;
    quota = std::make_unique<group_quota>(opts, [this](const std::string& u, fault&) {
      ++loads;
      return std::optional<size_t>{stored[u]};
    });
  }
};

constexpr int64_t hour = 3'600'000;

} // namespace

TEST_CASE("group creations per hour: the next one waits, with the time to wait") {
  fixture f{3, 100};
  int64_t t = 10 * hour;
  CHECK(f.quota->admit_creation("alice", t) == 0);
  CHECK(f.quota->admit_creation("alice", t) == 0);
  CHECK(f.quota->admit_creation("alice", t) == 0);
  auto wait = f.quota->admit_creation("alice", t + 1000);
  CHECK(wait > 0);
  CHECK(wait <= 2 * hour);  // the sliding window counter may ask for up to two
  CHECK(f.quota->admit_creation("bob", t) == 0);  // per user
  // Two hours later the window is empty again.
  CHECK(f.quota->admit_creation("alice", t + 2 * hour) == 0);
}

TEST_CASE("groups per user: reserved all or nothing, counted once stored") {
  fixture f{100, 2};
  f.stored["bob"] = 1;
  CHECK_FALSE(f.quota->reserve({"alice", "bob"}, 0));
  // bob is at 2 with the reservation: a second group for both is refused whole.
  auto err = f.quota->reserve({"alice", "bob"}, 0);
  CHECK(err.code == errc::too_large);
  CHECK(err.message.find("bob") == 0);
  CHECK(*f.quota->groups_of("alice") == 1);  // alice's part of the refused one was undone
  f.quota->cancel({"alice", "bob"});
  CHECK(*f.quota->groups_of("bob") == 1);
  CHECK_FALSE(f.quota->reserve({"bob"}, 0));
  f.quota->commit({"bob"});
  CHECK(*f.quota->groups_of("bob") == 2);
  CHECK(f.quota->reserve({"bob"}, 0).code == errc::too_large);
  f.quota->begin_removal({"bob"}, 0);
  f.quota->end_removal({"bob"}, true);
  CHECK(*f.quota->groups_of("bob") == 1);
  CHECK_FALSE(f.quota->reserve({"bob"}, 0));
}

TEST_CASE("a count loaded while a removal is in flight is loaded again afterwards") {
  fixture f{100, 5};
  f.stored["bob"] = 3;
  f.quota->begin_removal({"bob"}, 0);
  f.stored["bob"] = 2;  // the removal is durable before the load
  CHECK_FALSE(f.quota->reserve({"carol"}, 0));
  CHECK_FALSE(f.quota->reserve({"bob"}, 0));  // loads 2 (+1 reserved)
  f.quota->end_removal({"bob"}, true);
  f.quota->commit({"bob"});
  f.stored["bob"] = 3;
  // Not 2 (a removal counted twice): the stale count was dropped and is read again.
  CHECK_FALSE(f.quota->groups_of("bob"));
  CHECK_FALSE(f.quota->reserve({"bob"}, 0));
  CHECK(*f.quota->groups_of("bob") == 4);
}

TEST_CASE("idle users are forgotten, so a burst leaves no state behind") {
  fixture f{1000, 1000};
  for (int i = 0; i < 5000; ++i)
    CHECK(f.quota->admit_creation("u" + std::to_string(i), 0) == 0);
  CHECK(f.quota->tracked_users() == 5000);
  f.quota->sweep(hour);  // the creation windows still count
  CHECK(f.quota->tracked_users() == 5000);
  f.quota->sweep(3 * hour);
  CHECK(f.quota->tracked_users() == 0);
  // In-flight reservations keep their entry.
  CHECK_FALSE(f.quota->reserve({"x"}, 0));
  f.quota->sweep(10 * hour);
  CHECK(f.quota->tracked_users() == 1);
}
