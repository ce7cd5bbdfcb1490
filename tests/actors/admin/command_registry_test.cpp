// The admin command registry: names, argument checks, durations and times.
#include "actors/admin/command_registry.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace parley;
using namespace parley::admin;

TEST_CASE("every command has a unique dotted name, a summary and one scope") {
  std::set<std::string> names;
  for (auto& c : commands()) {
    CHECK(names.insert(c.name).second);
    CHECK(c.name.find('.') != std::string::npos);
    CHECK_FALSE(c.summary.empty());
    CHECK((!c.destructive || c.mutates));  // only mutations ask for confirmation
  }
  CHECK(find_command("sessions.kick") != nullptr);
  CHECK(find_command("sessions") == nullptr);
  auto wire = to_proto(commands());
  CHECK(wire.commands_size() == static_cast<int>(commands().size()));
}

TEST_CASE("arguments are checked against the command's spec") {
  auto& ban = *find_command("users.ban");
  CHECK_FALSE(check_args(ban, {{"user", "bob"}}));
  CHECK_FALSE(check_args(ban, {{"user", "bob"}, {"until", "2030-01-01T00:00:00Z"}}));
  auto missing = check_args(ban, {});
  CHECK(missing.code == errc::bad_request);
  CHECK(missing.message == "users.ban needs user");
  auto unknown = check_args(ban, {{"user", "bob"}, {"colour", "red"}});
  CHECK(unknown.message == "users.ban has no argument \"colour\"");
  auto bad_time = check_args(ban, {{"user", "bob"}, {"until", "tomorrow"}});
  CHECK(bad_time.code == errc::bad_request);
  CHECK(bad_time.message.find("until") != std::string::npos);
  auto& top = *find_command("node.top");
  CHECK(check_args(top, {{"limit", "ten"}}).code == errc::bad_request);
  CHECK_FALSE(check_args(top, {{"limit", "10"}}));
  auto& drain = *find_command("node.drain");
  CHECK(check_args(drain, {{"duration", "soon"}}).code == errc::bad_request);
  CHECK(check_args(*find_command("users.where"), {{"user", ""}}).code == errc::bad_request);
}

TEST_CASE("durations take ms, s, m and h up to a day") {
  CHECK(*parse_duration_ms("1500ms") == 1500);
  CHECK(*parse_duration_ms("30s") == 30000);
  CHECK(*parse_duration_ms("30") == 30000);
  CHECK(*parse_duration_ms("5m") == 300000);
  CHECK(*parse_duration_ms("2h") == 7200000);
  CHECK_FALSE(parse_duration_ms("25h"));
  CHECK_FALSE(parse_duration_ms("-5s"));
  CHECK_FALSE(parse_duration_ms("5 s"));
  CHECK_FALSE(parse_duration_ms("s"));
  CHECK_FALSE(parse_duration_ms(""));
  CHECK_FALSE(parse_duration_ms("99999999999999999999s"));
}

TEST_CASE("times are RFC 3339") {
  CHECK(*parse_time_ms("1970-01-01T00:00:01Z") == 1000);
  CHECK_FALSE(parse_time_ms("2030-01-01"));
}
