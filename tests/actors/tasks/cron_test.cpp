// cron_expr against a table computed by npm cron-parser (cron_fixture.mjs), and by hand: every
// refusal with its message, macros, the OR rule for day fields, leap years.
#include "actors/tasks/cron.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace parley;
using namespace parley::tasks;

namespace {

// A deliberately naive calendar (year by year from 1970), so the expected times do not share
// code with the day arithmetic under test.
bool is_leap(int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int days_in_month(int64_t y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int days_in_year(int64_t y) {
  return is_leap(y) ? 366 : 365;
}

// Unix ms of a UTC date and time.
int64_t utc(int64_t y, int mo, int d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
  int64_t days = 0;
  for (int64_t yy = 1970; yy < y; ++yy)
    days += days_in_year(yy);
  for (int64_t yy = y; yy < 1970; ++yy)
    days -= days_in_year(yy);
  for (int m = 1; m < mo; ++m)
    days += days_in_month(y, m);
  days += d - 1;
  return ((days * 24 + h) * 60 + mi) * 60'000 + s * 1'000 + ms;
}

// "2028-02-29T00:00:00.000Z", for failure messages.
std::string iso(int64_t ms) {
  if (ms == -1)
    return "none";
  int64_t days = ms >= 0 ? ms / 86'400'000 : -((-ms + 86'399'999) / 86'400'000);
  int64_t rem = ms - days * 86'400'000;
  int64_t y = 1970;
  while (days < 0)
    days += days_in_year(--y);
  while (days >= days_in_year(y))
    days -= days_in_year(y++);
  int m = 1;
  while (days >= days_in_month(y, m))
    days -= days_in_month(y, m++);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, static_cast<long long>(days + 1),
                static_cast<long long>(rem / 3'600'000), static_cast<long long>(rem / 60'000 % 60),
                static_cast<long long>(rem / 1'000 % 60), static_cast<long long>(rem % 1'000));
  return buf;
}

cron_expr must_parse(const std::string& text) {
  fault err;
  auto expr = cron_expr::parse(text, err);
  INFO("expression '" << text << "': " << err.message);
  REQUIRE(expr);
  CHECK_FALSE(err);
  return *expr;
}

// The message of the fault for an expression that must be refused.
std::string refusal(const std::string& text) {
  fault err;
  auto expr = cron_expr::parse(text, err);
  INFO("expression '" << text << "'");
  CHECK_FALSE(expr);
  CHECK(err.code == errc::bad_request);
  return err.message;
}

// The next `n` firings after `from`, each strictly after the one before.
std::vector<std::string> firings(const cron_expr& expr, int64_t from, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    from = expr.next_after(from);
    out.push_back(iso(from));
  }
  return out;
}

std::vector<std::string> firings(const std::string& text, int64_t from, int n) {
  return firings(must_parse(text), from, n);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep))
    out.push_back(part);
  return out;
}

} // namespace

TEST_CASE("next firings agree with cron-parser on the fixture table") {
  const std::string path = PARLEY_SOURCE_DIR "/tests/actors/tasks/cron_fixture.txt";
  std::ifstream in(path);
  INFO("fixture " << path);
  REQUIRE(in);
  std::string line;
  int cases = 0;
  int mismatches = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    const auto cols = split(line, '\t');
    REQUIRE(cols.size() == 3);
    const std::string& text = cols[0];
    const int64_t start = std::stoll(cols[1]);
    std::vector<int64_t> want;
    for (const auto& t : split(cols[2], ','))
      want.push_back(std::stoll(t));
    ++cases;

    fault err;
    auto expr = cron_expr::parse(text, err);
    if (!expr) {
      ++mismatches;
      FAIL_CHECK("'" << text << "' refused: " << err.message);
      continue;
    }
    std::vector<int64_t> got;
    int64_t t = start;
    for (size_t i = 0; i < want.size(); ++i)
      got.push_back(t = expr->next_after(t));
    if (got != want) {
      ++mismatches;
      std::ostringstream msg;
      msg << "'" << text << "' from " << iso(start) << " (" << start << "):";
      for (size_t i = 0; i < want.size(); ++i)
        msg << "\n  want " << iso(want[i]) << "  got " << iso(got[i]);
      FAIL_CHECK(msg.str());
    }
  }
  CHECK(cases >= 1000);
  CHECK(mismatches == 0);
}

TEST_CASE("malformed expressions are refused with the field and the problem") {
  CHECK(refusal("") == "cron: empty expression");
  CHECK(refusal("   ") == "cron: empty expression");
  CHECK(refusal("0 0 * *") ==
        "cron: expected 5 fields (minute hour day-of-month month day-of-week), got 4");
  CHECK(refusal("0 0 * * * * *") ==
        "cron: expected 5 fields (minute hour day-of-month month day-of-week), got 7");
  CHECK_THAT(refusal("0 0 0 * * *"), Catch::Contains("got 6: a seconds field is not supported"));
  CHECK_THAT(refusal("@reboot"), Catch::StartsWith("cron: unknown macro \"@reboot\""));
  CHECK(refusal("@daily 5") ==
        "cron: expected 5 fields (minute hour day-of-month month day-of-week), got 2");
}

TEST_CASE("values outside a field's range are refused") {
  CHECK(refusal("60 * * * *") == "cron: minute: 60 is out of range 0-59");
  CHECK(refusal("0 24 * * *") == "cron: hour: 24 is out of range 0-23");
  CHECK(refusal("0 0 32 * *") == "cron: day-of-month: 32 is out of range 1-31");
  CHECK(refusal("0 0 0 * *") == "cron: day-of-month: 0 is out of range 1-31");
  CHECK(refusal("0 0 * 13 *") == "cron: month: 13 is out of range 1-12");
  CHECK(refusal("0 0 * 0 *") == "cron: month: 0 is out of range 1-12");
  CHECK(refusal("0 0 * * 8") == "cron: day-of-week: 8 is out of range 0-7");
  CHECK(refusal("0 0-24 * * *") == "cron: hour: 24 is out of range 0-23");
  CHECK(refusal("99999999999 * * * *") == "cron: minute: 99999999999 is out of range 0-59");
}

TEST_CASE("reversed ranges are refused") {
  CHECK(refusal("0 5-2 * * *") == "cron: hour: range 5-2 is reversed");
  CHECK(refusal("0 0 * * fri-mon") == "cron: day-of-week: range fri-mon is reversed");
  CHECK(refusal("0 0 * DEC-jan *") == "cron: month: range DEC-jan is reversed");
  CHECK(refusal("30-10/5 * * * *") == "cron: minute: range 30-10 is reversed");
}

TEST_CASE("zero and out-of-range steps are refused") {
  CHECK(refusal("*/0 * * * *") == "cron: minute: step 0 is out of range 1-59");
  CHECK(refusal("*/60 * * * *") == "cron: minute: step 60 is out of range 1-59");
  CHECK(refusal("0 */24 * * *") == "cron: hour: step 24 is out of range 1-23");
  CHECK(refusal("0 0 1-10/32 * *") == "cron: day-of-month: step 32 is out of range 1-31");
  CHECK(refusal("0 0 1 1/13 *") == "cron: month: step 13 is out of range 1-12");
  CHECK(refusal("0 0 * * */8") == "cron: day-of-week: step 8 is out of range 1-7");
  CHECK(refusal("*/ * * * *") == "cron: minute: missing step after '/' in \"*/\"");
}

TEST_CASE("garbage characters, unknown names and empty list items are refused") {
  CHECK(refusal("a * * * *") == "cron: minute: unexpected character 'a' in \"a\"");
  CHECK(refusal("0 0 * * 1x") == "cron: day-of-week: unexpected character 'x' in \"1x\"");
  CHECK(refusal("0 0 ? * *") == "cron: day-of-month: unexpected character '?' in \"?\"");
  CHECK(refusal("0 0 L * *") == "cron: day-of-month: unexpected character 'L' in \"L\"");
  CHECK(refusal("0 0 * * 5#3") == "cron: day-of-week: unexpected character '#' in \"5#3\"");
  CHECK(refusal("-5 * * * *") == "cron: minute: unexpected character '-' in \"-5\"");
  CHECK(refusal("1-2-3 * * * *") == "cron: minute: unexpected character '-' in \"1-2-3\"");
  CHECK(refusal("*/5/2 * * * *") == "cron: minute: unexpected character '/' in \"*/5/2\"");
  CHECK(refusal("5/x * * * *") == "cron: minute: unexpected character 'x' in \"5/x\"");
  CHECK(refusal("*-5 * * * *") == "cron: minute: unexpected character '-' in \"*-5\"");
  CHECK(refusal("1- * * * *") == "cron: minute: missing value in \"1-\"");
  CHECK(refusal("0 0 * JANUARY *") == "cron: month: unknown name \"JANUARY\"");
  CHECK(refusal("0 0 * MON *") == "cron: month: unknown name \"MON\"");
  CHECK(refusal("0 0 * * jan") == "cron: day-of-week: unknown name \"jan\"");
  CHECK(refusal("0 0 * * sunday") == "cron: day-of-week: unknown name \"sunday\"");
  CHECK(refusal("1,,2 * * * *") == "cron: minute: empty list item in \"1,,2\"");
  CHECK(refusal("0 ,5 * * *") == "cron: hour: empty list item in \",5\"");
  CHECK(refusal("0 0 * 5, *") == "cron: month: empty list item in \"5,\"");
}

TEST_CASE("schedules that can never fire are refused") {
  CHECK(refusal("0 0 30 2 *") == "cron: never fires (e.g. February 30)");
  CHECK(refusal("0 0 30,31 feb *") == "cron: never fires (e.g. February 30)");
  CHECK(refusal("0 0 31 4,6,9,11 *") == "cron: never fires (e.g. April 31)");
  CHECK(refusal("0 0 31 2,4 *") == "cron: never fires (e.g. February 31)");
  // Possible only in some years, or through the day of week, so accepted:
  must_parse("0 0 29 2 *");
  must_parse("0 0 30 2 mon");   // OR rule: Mondays in February
  must_parse("0 0 31 4,6,9,11 mon");  // OR rule: Mondays in those months
}

TEST_CASE("macros mean their five-field expressions") {
  const std::vector<std::pair<std::string, std::string>> macros = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"}, {"@DAILY", "0 0 * * *"},     {" @Weekly ", "0 0 * * 0"},
  };
  for (const auto& [macro, fields] : macros) {
    INFO(macro);
    CHECK(must_parse(macro).text() == macro);
    for (int64_t from : {utc(2025, 6, 15, 12, 34, 56, 789), utc(2099, 12, 31, 23, 59)})
      CHECK(firings(macro, from, 4) == firings(fields, from, 4));
  }
  const int64_t from = utc(2025, 6, 15, 12, 34, 56, 789);  // a Sunday
  CHECK(firings("@hourly", from, 1) == std::vector<std::string>{"2025-06-15T13:00:00.000Z"});
  CHECK(firings("@weekly", from, 1) == std::vector<std::string>{"2025-06-22T00:00:00.000Z"});
  CHECK(firings("@monthly", from, 1) == std::vector<std::string>{"2025-07-01T00:00:00.000Z"});
  CHECK(firings("@yearly", from, 1) == std::vector<std::string>{"2026-01-01T00:00:00.000Z"});
}

TEST_CASE("with both day fields restricted a day fires if either matches") {
  const int64_t june1 = utc(2025, 6, 1);  // a Sunday
  CHECK(firings("0 0 1,15 * fri", june1, 7) ==
        std::vector<std::string>{"2025-06-06T00:00:00.000Z", "2025-06-13T00:00:00.000Z",
                                 "2025-06-15T00:00:00.000Z", "2025-06-20T00:00:00.000Z",
                                 "2025-06-27T00:00:00.000Z", "2025-07-01T00:00:00.000Z",
                                 "2025-07-04T00:00:00.000Z"});
  // One field `*`: both must match.
  CHECK(firings("0 0 1,15 * *", june1, 2) ==
        std::vector<std::string>{"2025-06-15T00:00:00.000Z", "2025-07-01T00:00:00.000Z"});
  CHECK(firings("0 0 * * fri", june1, 2) ==
        std::vector<std::string>{"2025-06-06T00:00:00.000Z", "2025-06-13T00:00:00.000Z"});
  // `*/2` restricts (as in cron-parser): odd days OR Fridays.
  CHECK(firings("0 0 */2 * fri", june1, 5) ==
        std::vector<std::string>{"2025-06-03T00:00:00.000Z", "2025-06-05T00:00:00.000Z",
                                 "2025-06-06T00:00:00.000Z", "2025-06-07T00:00:00.000Z",
                                 "2025-06-09T00:00:00.000Z"});
  // `*/1` does not: Fridays only.
  CHECK(firings("0 0 */1 * fri", june1, 2) ==
        std::vector<std::string>{"2025-06-06T00:00:00.000Z", "2025-06-13T00:00:00.000Z"});
  // An explicit full range is a restriction, as in Vixie cron: every day.
  CHECK(firings("0 0 1-31 * fri", june1, 2) ==
        std::vector<std::string>{"2025-06-02T00:00:00.000Z", "2025-06-03T00:00:00.000Z"});
}

TEST_CASE("February 29 fires only in leap years, and 2100 is not one") {
  CHECK(firings("0 0 29 2 *", utc(2025, 3, 1), 2) ==
        std::vector<std::string>{"2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"});
  CHECK(firings("0 0 29 2 *", utc(2096, 3, 1), 1) ==
        std::vector<std::string>{"2104-02-29T00:00:00.000Z"});
  CHECK(firings("59 23 28-29 2 *", utc(2100, 2, 28), 3) ==
        std::vector<std::string>{"2100-02-28T23:59:00.000Z", "2101-02-28T23:59:00.000Z",
                                 "2102-02-28T23:59:00.000Z"});
  CHECK(firings("0 0 29 feb *", utc(2000, 1, 1), 1) ==
        std::vector<std::string>{"2000-02-29T00:00:00.000Z"});  // 2000 is a leap year
  CHECK(firings("0 12 31 * *", utc(2025, 1, 31, 12), 3) ==
        std::vector<std::string>{"2025-03-31T12:00:00.000Z", "2025-05-31T12:00:00.000Z",
                                 "2025-07-31T12:00:00.000Z"});
  CHECK(firings("59 23 31 12 *", utc(2025, 12, 31, 23, 58, 59, 999), 2) ==
        std::vector<std::string>{"2025-12-31T23:59:00.000Z", "2026-12-31T23:59:00.000Z"});
}

TEST_CASE("day-of-week 7 is Sunday like 0") {
  const int64_t from = utc(2025, 6, 1);
  const auto sundays = firings("0 0 * * 0", from, 3);
  CHECK(sundays == std::vector<std::string>{"2025-06-08T00:00:00.000Z", "2025-06-15T00:00:00.000Z",
                                            "2025-06-22T00:00:00.000Z"});
  CHECK(firings("0 0 * * 7", from, 3) == sundays);
  CHECK(firings("0 0 * * SUN", from, 3) == sundays);
  CHECK(firings("0 0 * * 0,7", from, 3) == sundays);
  CHECK(firings("0 0 * * */7", from, 3) == sundays);
  CHECK(firings("0 0 * * 5-7", from, 3) ==
        std::vector<std::string>{"2025-06-06T00:00:00.000Z", "2025-06-07T00:00:00.000Z",
                                 "2025-06-08T00:00:00.000Z"});
  // `1/2` runs 1-7: Monday, Wednesday, Friday and Sunday.
  CHECK(firings("0 0 * * 1/2", from, 4) ==
        std::vector<std::string>{"2025-06-02T00:00:00.000Z", "2025-06-04T00:00:00.000Z",
                                 "2025-06-06T00:00:00.000Z", "2025-06-08T00:00:00.000Z"});
}

TEST_CASE("month and day names are case-insensitive, also in ranges") {
  const int64_t from = utc(2025, 6, 1);
  CHECK(firings("0 0 1 jan,Feb,MAR *", from, 4) == firings("0 0 1 1,2,3 *", from, 4));
  CHECK(firings("0 0 1 jun-AUG/2 *", from, 4) == firings("0 0 1 6-8/2 *", from, 4));
  CHECK(firings("0 0 * * mon-FRI", from, 6) == firings("0 0 * * 1-5", from, 6));
  CHECK(firings("0 0 * * sAt,SuN", from, 4) == firings("0 0 * * 6,0", from, 4));
  CHECK(firings("0 0 * * WED/3", from, 4) == firings("0 0 * * 3-7/3", from, 4));
}

TEST_CASE("steps, lists and ranges select the right minutes") {
  const int64_t from = utc(2025, 6, 1, 10, 0);
  CHECK(firings("5/20 * * * *", from, 4) ==
        std::vector<std::string>{"2025-06-01T10:05:00.000Z", "2025-06-01T10:25:00.000Z",
                                 "2025-06-01T10:45:00.000Z", "2025-06-01T11:05:00.000Z"});
  CHECK(firings("10-20/5,59 * * * *", from, 4) ==
        std::vector<std::string>{"2025-06-01T10:10:00.000Z", "2025-06-01T10:15:00.000Z",
                                 "2025-06-01T10:20:00.000Z", "2025-06-01T10:59:00.000Z"});
  CHECK(firings("0 22-23,0-1 * * *", from, 4) ==
        std::vector<std::string>{"2025-06-01T22:00:00.000Z", "2025-06-01T23:00:00.000Z",
                                 "2025-06-02T00:00:00.000Z", "2025-06-02T01:00:00.000Z"});
}

TEST_CASE("firings are whole minutes strictly after the given time") {
  const auto every_hour = must_parse("0 * * * *");
  const int64_t noon = utc(2025, 6, 1, 12);
  CHECK(every_hour.next_after(noon - 1) == noon);
  CHECK(every_hour.next_after(noon) == noon + 3'600'000);
  CHECK(every_hour.next_after(noon + 1) == noon + 3'600'000);
  CHECK(every_hour.next_after(noon + 59'999) == noon + 3'600'000);
  const auto every_minute = must_parse("* * * * *");
  CHECK(every_minute.next_after(noon + 30'500) == noon + 60'000);
  // Before 1970 too.
  CHECK(every_hour.next_after(-1) == 0);
  CHECK(iso(must_parse("0 0 29 2 *").next_after(utc(1896, 3, 1))) == "1904-02-29T00:00:00.000Z");
  // Beyond the supported range there is no answer rather than an overflow.
  CHECK(every_minute.next_after(INT64_MAX) == -1);
  CHECK(every_minute.next_after(INT64_MIN) == -1);
}

TEST_CASE("a sparse schedule is found without walking minute by minute") {
  // 2000 yearly firings; a minute-by-minute search would take about a billion steps.
  const auto new_years_eve = must_parse("59 23 31 12 *");
  int64_t t = utc(2000, 1, 1);
  for (int i = 0; i < 2000; ++i) {
    t = new_years_eve.next_after(t);
    REQUIRE(iso(t) == std::to_string(2000 + i) + "-12-31T23:59:00.000Z");
  }
}

TEST_CASE("the expression keeps its text") {
  CHECK(must_parse("*/5  9-17 * * MON-FRI").text() == "*/5  9-17 * * MON-FRI");
}
