// Cron schedules for the task scheduler: parses a five-field cron expression and finds its next
// firing. Times are unix milliseconds and the calendar is UTC only, so no time zone or DST rules.
#pragma once

#include "common/errc.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::tasks {

// A validated cron expression: "minute hour day-of-month month day-of-week" or one of the macros
// @yearly @annually @monthly @weekly @daily @midnight @hourly (case-insensitive).
//
// Each field is a comma list of items: `*`, a value, a range `a-b`, or a step `*/n`, `a-b/n`,
// `a/n` (meaning a through the field's maximum, every n). Months take JAN-DEC and day-of-week
// SUN-SAT, case-insensitive, also as range ends; day-of-week 7 is Sunday like 0, so `5-7` is
// Friday to Sunday and `*/7` is Sunday. A step runs from 1 to the field's maximum value
// (`*/60` in minutes is refused: it would quietly mean "minute 0 only").
//
// Days follow Vixie cron: when both day fields are restricted, a day fires if EITHER matches
// ("0 0 1,15 * fri" is the 1st, the 15th and every Friday); otherwise both must match. A day
// field counts as unrestricted only when one of its items is `*` or `*/1`. So `*/2` IS a
// restriction: npm cron-parser 4.9 (our reference implementation, see
// tests/actors/tasks/cron_fixture.mjs) decides by the set of values and agrees, while Vixie
// cron itself treats any field starting with `*` as unrestricted. Explicit full ranges such as
// `1-31` or `0-7` are restrictions too, as in Vixie cron (cron-parser calls them unrestricted).
//
// Refused, with a bad_request fault naming the field: a field count other than five (six
// fields would be a seconds field, which we do not support), values or steps out of range,
// reversed ranges, empty list items, unknown names and any other character, and schedules that
// can never fire such as "0 0 30 2 *" (found by searching ahead, which also proves that
// next_after always finds a firing for a parsed expression).
class cron_expr {
public:
  // -- constructors --

  // Parses `text`; on failure returns nullopt and sets `err` to errc::bad_request with a
  // message such as "cron: day-of-month: 32 is out of range 1-31".
  static std::optional<cron_expr> parse(std::string_view text, fault& err);

  // -- observers --

  // The first firing strictly after `after_ms` (unix milliseconds, UTC). Firings are whole
  // minutes. Returns -1 if there is none, which for a parsed expression happens only when
  // `after_ms` is beyond the supported range (about a million years either side of 1970).
  int64_t next_after(int64_t after_ms) const;

  // The expression as it was given to parse.
  const std::string& text() const;

private:
  cron_expr() = default;

  // Whether a date passes the two day fields (OR when both are restricted, else AND).
  bool day_matches(unsigned day_of_month, unsigned weekday) const;

  std::string text_;
  uint64_t minutes_ = 0;   // bit n set: fires at minute n (0-59)
  uint32_t hours_ = 0;     // bit n set: fires in hour n (0-23)
  uint32_t days_ = 0;      // bit n set: day of month n (1-31)
  uint16_t months_ = 0;    // bit n set: month n (1-12)
  uint8_t weekdays_ = 0;   // bit n set: weekday n, 0 = Sunday (7 is folded into 0)
  bool any_day_of_month_ = false;  // the day-of-month field has a `*` item
  bool any_weekday_ = false;       // the day-of-week field has a `*` item
};

} // namespace parley::tasks
