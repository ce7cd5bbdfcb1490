// Cron parsing into one bitset per field, and the next-firing search over a proleptic Gregorian
// UTC calendar of common/civil_date.hpp, so nothing depends on TZ or on libc's gmtime/timegm.
#include "actors/tasks/cron.hpp"

#include "common/civil_date.hpp"

#include <array>
#include <cctype>
#include <vector>

namespace parley::tasks {

namespace {

// -- calendar --

// 0 = Sunday; 1970-01-01 was a Thursday.
unsigned weekday_from_days(int64_t z) {
  return static_cast<unsigned>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

constexpr int64_t ms_per_minute = 60'000;
constexpr int64_t minutes_per_day = 1'440;

// Feb 29 can be eight years apart (2096 to 2104, as 2100 is no leap year), so every expression
// that fires at all fires within this many days of any start.
constexpr int64_t search_days = 9 * 366;

// Keeps the minute arithmetic far from int64 overflow: about a million years either side of 1970.
constexpr int64_t supported_ms = 1'000'000 * int64_t{31'556'952'000};

// The search start for the "never fires" check: from here the next Feb 29 is the farthest one
// can be (2104-02-29), so the check also proves that search_days is enough.
const int64_t never_fires_probe_ms = days_from_civil(2096, 3, 1) * minutes_per_day * ms_per_minute;

// The lowest set bit at or above `from`, or -1.
int next_bit(uint64_t bits, int from, int last) {
  for (int i = from; i <= last; ++i)
    if (bits >> i & 1)
      return i;
  return -1;
}

// -- fields --

constexpr std::array<std::string_view, 12> month_names = {
  "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> weekday_names = {
  "sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr std::array<std::string_view, 12> month_full_names = {
  "January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"};

struct field_spec {
  std::string_view name;  // as the messages say it
  int min;
  int max;
  const std::string_view* names = nullptr;  // three-letter names of min, min+1, ...
  size_t name_count = 0;
};

constexpr field_spec minute_field{"minute", 0, 59};
constexpr field_spec hour_field{"hour", 0, 23};
constexpr field_spec day_of_month_field{"day-of-month", 1, 31};
constexpr field_spec month_field{"month", 1, 12, month_names.data(), month_names.size()};
constexpr field_spec weekday_field{"day-of-week", 0, 7, weekday_names.data(),
                                   weekday_names.size()};

struct parsed_field {
  uint64_t bits = 0;
  bool any = false;  // an item was `*` or `*/1`
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Parses one comma-separated field; the first problem found is reported in `err`.
class field_parser {
public:
  field_parser(const field_spec& spec, fault& err) : spec_(spec), err_(err) {}

  std::optional<parsed_field> parse(std::string_view text) {
    parsed_field out;
    size_t start = 0;
    for (;;) {
      const size_t comma = text.find(',', start);
      const auto item = text.substr(start, comma == std::string_view::npos ? text.npos
                                                                           : comma - start);
      if (item.empty())
        return fail("empty list item in " + quoted(text));
      if (!parse_item(item, out))
        return std::nullopt;
      if (comma == std::string_view::npos)
        break;
      start = comma + 1;
    }
    return out;
  }

private:
  std::nullopt_t fail(std::string problem) {
    err_ = make_fault(errc::bad_request,
                      "cron: " + std::string(spec_.name) + ": " + std::move(problem));
    return std::nullopt;
  }

  std::string unexpected(std::string_view rest, std::string_view item) {
    return "unexpected character '" + std::string(1, rest.front()) + "' in " + quoted(item);
  }

  // item := ('*' | value ['-' value]) ['/' step]
  bool parse_item(std::string_view item, parsed_field& out) {
    std::string_view rest = item;
    int lo = spec_.min;
    int hi = spec_.max;
    bool star = false;
    bool range = false;
    if (rest.front() == '*') {
      star = true;
      rest.remove_prefix(1);
    } else {
      if (!read_value(rest, item, lo))
        return false;
      hi = lo;
      if (!rest.empty() && rest.front() == '-') {
        rest.remove_prefix(1);
        if (!read_value(rest, item, hi))
          return false;
        range = true;
        if (hi < lo) {
          fail("range " + std::string(item.substr(0, item.size() - rest.size())) +
               " is reversed");
          return false;
        }
      }
    }
    int step = 1;
    if (!rest.empty() && rest.front() == '/') {
      rest.remove_prefix(1);
      if (rest.empty()) {
        fail("missing step after '/' in " + quoted(item));
        return false;
      }
      if (!is_digit(rest.front())) {
        fail(unexpected(rest, item));
        return false;
      }
      const auto digits = take_digits(rest);
      step = to_int(digits);
      if (step < 1 || step > spec_.max) {
        fail("step " + std::string(digits) + " is out of range 1-" + std::to_string(spec_.max));
        return false;
      }
      if (!star && !range)
        hi = spec_.max;  // `a/n` runs from a to the field's maximum
    }
    if (!rest.empty()) {
      fail(unexpected(rest, item));
      return false;
    }
    for (int v = lo; v <= hi; v += step)
      out.bits |= uint64_t{1} << v;
    out.any = out.any || (star && step == 1);
    return true;
  }

  // A number or, for month and day-of-week, a three-letter name.
  bool read_value(std::string_view& rest, std::string_view item, int& value) {
    if (rest.empty()) {
      fail("missing value in " + quoted(item));
      return false;
    }
    if (is_digit(rest.front())) {
      const auto digits = take_digits(rest);
      value = to_int(digits);
      if (value < spec_.min || value > spec_.max) {
        fail(std::string(digits) + " is out of range " + std::to_string(spec_.min) + "-" +
             std::to_string(spec_.max));
        return false;
      }
      return true;
    }
    if (is_alpha(rest.front()) && spec_.names != nullptr) {
      size_t n = 0;
      while (n < rest.size() && is_alpha(rest[n]))
        ++n;
      const auto word = rest.substr(0, n);
      const auto key = lower(word);
      for (size_t i = 0; i < spec_.name_count; ++i) {
        if (spec_.names[i] == key) {
          value = spec_.min + static_cast<int>(i);
          rest.remove_prefix(n);
          return true;
        }
      }
      fail("unknown name " + quoted(word));
      return false;
    }
    fail(unexpected(rest, item));
    return false;
  }

  static std::string_view take_digits(std::string_view& rest) {
    size_t n = 0;
    while (n < rest.size() && is_digit(rest[n]))
      ++n;
    const auto digits = rest.substr(0, n);
    rest.remove_prefix(n);
    return digits;
  }

  // Saturates instead of overflowing: anything that large is out of range anyway.
  static int to_int(std::string_view digits) {
    int v = 0;
    for (char c : digits)
      v = v > 100'000 ? v : v * 10 + (c - '0');
    return v;
  }

  const field_spec& spec_;
  fault& err_;
};

std::string_view expand_macro(std::string_view name) {
  const auto key = lower(name);
  if (key == "@yearly" || key == "@annually")
    return "0 0 1 1 *";
  if (key == "@monthly")
    return "0 0 1 * *";
  if (key == "@weekly")
    return "0 0 * * 0";
  if (key == "@daily" || key == "@midnight")
    return "0 0 * * *";
  if (key == "@hourly")
    return "0 * * * *";
  return {};
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i]))
      ++i;
    const size_t start = i;
    while (i < text.size() && !is_space(text[i]))
      ++i;
    if (i > start)
      out.push_back(text.substr(start, i - start));
  }
  return out;
}

} // namespace

std::optional<cron_expr> cron_expr::parse(std::string_view text, fault& err) {
  auto bad = [&err](std::string message) {
    err = make_fault(errc::bad_request, "cron: " + std::move(message));
    return std::nullopt;
  };
  auto fields = split_fields(text);
  if (fields.empty())
    return bad("empty expression");
  if (fields.size() == 1 && fields.front().front() == '@') {
    const auto expansion = expand_macro(fields.front());
    if (expansion.empty())
      return bad("unknown macro " + quoted(fields.front()) +
                 " (expected @yearly @annually @monthly @weekly @daily @midnight @hourly)");
    fields = split_fields(expansion);
  }
  if (fields.size() == 6)
    return bad("expected 5 fields (minute hour day-of-month month day-of-week), got 6: "
               "a seconds field is not supported");
  if (fields.size() != 5)
    return bad("expected 5 fields (minute hour day-of-month month day-of-week), got " +
               std::to_string(fields.size()));

  const std::array<const field_spec*, 5> specs = {&minute_field, &hour_field,
                                                  &day_of_month_field, &month_field,
                                                  &weekday_field};
  std::array<parsed_field, 5> parsed;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto field = field_parser(*specs[i], err).parse(fields[i]);
    if (!field)
      return std::nullopt;
    parsed[i] = *field;
  }

  cron_expr expr;
  expr.text_ = std::string(text);
  expr.minutes_ = parsed[0].bits;
  expr.hours_ = static_cast<uint32_t>(parsed[1].bits);
  expr.days_ = static_cast<uint32_t>(parsed[2].bits);
  expr.months_ = static_cast<uint16_t>(parsed[3].bits);
  expr.weekdays_ = static_cast<uint8_t>((parsed[4].bits | parsed[4].bits >> 7) & 0x7f);
  expr.any_day_of_month_ = parsed[2].any;
  expr.any_weekday_ = parsed[4].any;

  if (expr.next_after(never_fires_probe_ms) < 0) {
    // Only day-of-month against month can fail (an unrestricted day-of-week matches any day),
    // so every month/day pair of the expression is impossible and the smallest is an example.
    const int month = next_bit(expr.months_, 1, 12);
    const int day = next_bit(expr.days_, 1, 31);
    return bad("never fires (e.g. " + std::string(month_full_names[month - 1]) + " " +
               std::to_string(day) + ")");
  }
  return expr;
}

int64_t cron_expr::next_after(int64_t after_ms) const {
  if (after_ms < -supported_ms || after_ms > supported_ms)
    return -1;
  // The first whole minute strictly after after_ms.
  const int64_t first = floor_div(after_ms, ms_per_minute) + 1;
  int64_t day = floor_div(first, minutes_per_day);
  const auto minute_of_day = static_cast<int>(first - day * minutes_per_day);
  int hour = minute_of_day / 60;
  int minute = minute_of_day % 60;
  const int64_t last_day = day + search_days;
  while (day <= last_day) {
    const auto date = civil_from_days(day);
    if (!(months_ >> date.month & 1)) {
      // Skip the rest of a month that never fires.
      day = date.month == 12 ? days_from_civil(date.year + 1, 1, 1)
                             : days_from_civil(date.year, date.month + 1, 1);
      hour = minute = 0;
      continue;
    }
    if (day_matches(date.day, weekday_from_days(day))) {
      for (int h = next_bit(hours_, hour, 23); h >= 0; h = next_bit(hours_, h + 1, 23)) {
        const int m = next_bit(minutes_, h == hour ? minute : 0, 59);
        if (m >= 0)
          return ((day * minutes_per_day) + h * 60 + m) * ms_per_minute;
      }
    }
    ++day;
    hour = minute = 0;
  }
  return -1;
}

const std::string& cron_expr::text() const {
  return text_;
}

bool cron_expr::day_matches(unsigned day_of_month, unsigned weekday) const {
  const bool dom = days_ >> day_of_month & 1;
  const bool dow = weekdays_ >> weekday & 1;
  if (any_day_of_month_ || any_weekday_)
    return dom && dow;
  return dom || dow;
}

} // namespace parley::tasks
