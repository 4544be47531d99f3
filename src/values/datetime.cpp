#include "datetime.hpp"

#include <limits>

#include "scan.hpp"

namespace vil::values::detail {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

// PostgreSQL's range: dates from Julian day 0 (4714-11-24 BC) to 5874897-12-31, timestamps
// from Julian day 0 to 294276-12-31 23:59:59.999999. Microseconds since 1970 in an int64
// end a little earlier, in 294247, which bounds Timestamp and TimestampTz here.
constexpr int64_t kMinDays = days_from_civil(-4713, 11, 24);
constexpr int64_t kMaxDateDays = days_from_civil(5874897, 12, 31);
constexpr int64_t kMinTimestamp = kMinDays * kMicrosPerDay;
// |UTC offset| < 16 hours (PostgreSQL's TZDISP_LIMIT).
constexpr int32_t kOffsetLimit = 16 * 3600;

struct Cursor {
  std::string_view s;
  std::size_t i = 0;

  bool at_end() const noexcept { return i >= s.size(); }
  char peek() const noexcept { return i < s.size() ? s[i] : '\0'; }
  bool eat(char c) noexcept {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  // Up to `max` digits (at least one); -1 if there is none.
  int64_t number(std::size_t max, std::size_t* count = nullptr) noexcept {
    const std::size_t start = i;
    int64_t v = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < max) {
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (count) *count = i - start;
    return i == start ? -1 : v;
  }
};

struct Ymd {
  int64_t year;  // as written: 1 or more
  int64_t month;
  int64_t day;
  std::size_t offset;
};

Parsed<Ymd> read_date(Cursor& c, std::string_view what) noexcept {
  Ymd d{};
  d.offset = c.i;
  d.year = c.number(9);
  if (d.year < 0 || is_digit(c.peek())) return syntax(c.i, what);
  if (!c.eat('-')) return syntax(c.i, what);
  d.month = c.number(2);
  if (d.month < 0 || !c.eat('-')) return syntax(c.i, what);
  d.day = c.number(2);
  if (d.day < 0) return syntax(c.i, what);
  return d;
}

// Microseconds since midnight: HH:MM[:SS[.ffffff]], 24:00:00 allowed.
Parsed<int64_t> read_time(Cursor& c, std::string_view what) noexcept {
  const std::size_t start = c.i;
  const int64_t h = c.number(2);
  if (h < 0 || !c.eat(':')) return syntax(c.i, what);
  const int64_t m = c.number(2);
  if (m < 0) return syntax(c.i, what);
  int64_t sec = 0;
  int64_t frac = 0;
  if (c.eat(':')) {
    sec = c.number(2);
    if (sec < 0) return syntax(c.i, what);
    if (c.eat('.')) {
      std::size_t n = 0;
      frac = c.number(6, &n);
      if (frac < 0) return syntax(c.i, what);
      if (is_digit(c.peek())) return syntax(c.i, "has more than 6 fractional digits");
      for (; n < 6; ++n) frac *= 10;
    }
  }
  if (h > 24 || m > 59 || sec > 60 || (h == 24 && (m > 0 || sec > 0 || frac > 0))) {
    return out_of_range(start, "has a time field out of range");
  }
  return h * kMicrosPerHour + m * kMicrosPerMinute + sec * kMicrosPerSecond + frac;
}

// [+-]HH[:MM[:SS]] -> seconds east of UTC.
Parsed<int32_t> read_offset(Cursor& c, std::string_view what) noexcept {
  const std::size_t start = c.i;
  const char sign = c.peek();
  if (sign != '+' && sign != '-') return syntax(c.i, what);
  ++c.i;
  const int64_t h = c.number(2);
  if (h < 0) return syntax(c.i, what);
  int64_t m = 0;
  int64_t s = 0;
  if (c.eat(':')) {
    m = c.number(2);
    if (m < 0) return syntax(c.i, what);
    if (c.eat(':')) {
      s = c.number(2);
      if (s < 0) return syntax(c.i, what);
    }
  }
  const int64_t total = h * 3600 + m * 60 + s;
  if (m > 59 || s > 59 || total >= kOffsetLimit) {
    return out_of_range(start, "has a UTC offset out of range");
  }
  return static_cast<int32_t>(sign == '-' ? -total : total);
}

// Optional " BC" / " AD" suffix, then the end of the text (trailing spaces already trimmed).
Parsed<bool> read_era_and_end(Cursor& c, std::string_view what) noexcept {
  bool bc = false;
  if (c.peek() == ' ') {
    while (c.peek() == ' ') ++c.i;
    const std::string_view rest = c.s.substr(c.i);
    if (iequals(rest, "bc")) {
      bc = true;
    } else if (!iequals(rest, "ad")) {
      return syntax(c.i, what);
    }
    c.i = c.s.size();
  }
  if (!c.at_end()) return syntax(c.i, what);
  return bc;
}

constexpr bool is_leap(int64_t y) noexcept {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr int64_t days_in_month(int64_t y, int64_t m) noexcept {
  constexpr int8_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29 : kDays[m - 1];
}

// The date's days since 1970, its fields checked; the year as written plus its era.
Parsed<int64_t> civil_days(const Ymd& d, bool bc) noexcept {
  if (d.year < 1 || d.month < 1 || d.month > 12 || d.day < 1) {
    return out_of_range(d.offset, "has a date field out of range");
  }
  const int64_t year = bc ? 1 - d.year : d.year;
  if (d.day > days_in_month(year, d.month)) {
    return out_of_range(d.offset, "has a date field out of range");
  }
  return days_from_civil(year, d.month, d.day);
}

enum class Special { None, Infinity, MinusInfinity };
Special special_word(std::string_view s) noexcept {
  if (s.empty() || !(s[0] == 'i' || s[0] == 'I' || s[0] == '+' || s[0] == '-')) {
    return Special::None;
  }
  if (iequals(s, "infinity") || iequals(s, "+infinity")) return Special::Infinity;
  if (iequals(s, "-infinity")) return Special::MinusInfinity;
  return Special::None;
}

}  // namespace

Parsed<int32_t> parse_date(std::string_view text) noexcept {
  constexpr std::string_view kWhat = "is not a date (YYYY-MM-DD [BC])";
  const Trimmed t = trim(text);
  Cursor c{text.substr(0, t.end), t.begin};
  switch (special_word(c.s.substr(c.i))) {
    case Special::Infinity:
      return Date::kInfinity;
    case Special::MinusInfinity:
      return Date::kMinusInfinity;
    case Special::None:
      break;
  }
  auto ymd = read_date(c, kWhat);
  if (!ymd) return std::unexpected(ymd.error());
  auto bc = read_era_and_end(c, kWhat);
  if (!bc) return std::unexpected(bc.error());
  auto days = civil_days(*ymd, *bc);
  if (!days) return std::unexpected(days.error());
  if (*days < kMinDays || *days > kMaxDateDays) {
    return out_of_range(ymd->offset, "is out of range [4714-11-24 BC, 5874897-12-31]");
  }
  return static_cast<int32_t>(*days);
}

Parsed<int64_t> parse_time(std::string_view text) noexcept {
  constexpr std::string_view kWhat = "is not a time (HH:MM:SS[.ffffff])";
  const Trimmed t = trim(text);
  Cursor c{text.substr(0, t.end), t.begin};
  auto micros = read_time(c, kWhat);
  if (!micros) return micros;
  if (!c.at_end()) return syntax(c.i, kWhat);
  if (*micros > kMicrosPerDay) return out_of_range(t.begin, "is out of range [00:00, 24:00]");
  return micros;
}

Parsed<ParsedTimeTz> parse_timetz(std::string_view text) noexcept {
  constexpr std::string_view kWhat = "is not a time with UTC offset (HH:MM:SS[.ffffff]+HH[:MM])";
  const Trimmed t = trim(text);
  Cursor c{text.substr(0, t.end), t.begin};
  auto micros = read_time(c, kWhat);
  if (!micros) return std::unexpected(micros.error());
  auto offset = read_offset(c, kWhat);
  if (!offset) return std::unexpected(offset.error());
  if (!c.at_end()) return syntax(c.i, kWhat);
  if (*micros > kMicrosPerDay) return out_of_range(t.begin, "is out of range [00:00, 24:00]");
  return ParsedTimeTz{*micros, *offset};
}

Parsed<int64_t> parse_timestamp(std::string_view text, bool with_zone) noexcept {
  const std::string_view what =
      with_zone ? "is not a timestamp with UTC offset (YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM] [BC])"
                : "is not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff] [BC])";
  const Trimmed t = trim(text);
  Cursor c{text.substr(0, t.end), t.begin};
  switch (special_word(c.s.substr(c.i))) {
    case Special::Infinity:
      return std::numeric_limits<int64_t>::max();
    case Special::MinusInfinity:
      return std::numeric_limits<int64_t>::min();
    case Special::None:
      break;
  }
  auto ymd = read_date(c, what);
  if (!ymd) return std::unexpected(ymd.error());
  if (!c.eat(' ') && !c.eat('T')) return syntax(c.i, what);
  auto time = read_time(c, what);
  if (!time) return time;
  int32_t offset = 0;
  if (with_zone) {
    auto o = read_offset(c, what);
    if (!o) return std::unexpected(o.error());
    offset = *o;
  } else if (c.peek() == '+' || c.peek() == '-') {
    return syntax(c.i, "has a UTC offset, which timestamp (without time zone) does not take");
  }
  auto bc = read_era_and_end(c, what);
  if (!bc) return std::unexpected(bc.error());
  auto days = civil_days(*ymd, *bc);
  if (!days) return std::unexpected(days.error());

  constexpr std::string_view kRange = "is out of range [4714-11-24 BC, 294247-01-10 UTC]";
  int64_t micros;
  if (*days < kMinDays || __builtin_mul_overflow(*days, kMicrosPerDay, &micros) ||
      __builtin_add_overflow(micros, *time, &micros) ||
      __builtin_sub_overflow(micros, int64_t{offset} * kMicrosPerSecond, &micros) ||
      micros < kMinTimestamp || micros == std::numeric_limits<int64_t>::max()) {
    return out_of_range(ymd->offset, kRange);
  }
  return micros;
}

Parsed<ParsedInterval> parse_interval(std::string_view text) noexcept {
  constexpr std::string_view kWhat =
      "is not an interval (IntervalStyle postgres: [N years] [N mons] [N days] [[+-]HH:MM:SS])";
  const Trimmed t = trim(text);
  Cursor c{text.substr(0, t.end), t.begin};
  if (c.at_end()) return syntax(c.i, kWhat);
  int64_t months = 0;
  int64_t days = 0;
  int64_t micros = 0;
  bool seen_time = false;
  while (!c.at_end()) {
    const std::size_t token = c.i;
    bool negative = false;
    if (c.peek() == '+' || c.peek() == '-') {
      negative = c.peek() == '-';
      ++c.i;
    }
    std::size_t count = 0;
    const std::size_t digits_at = c.i;
    int64_t n = c.number(18, &count);
    if (n < 0) return syntax(c.i, kWhat);
    if (c.peek() == ':') {
      // The time part: hours (any number of them), minutes, seconds and fraction.
      if (seen_time || count > 10) return syntax(token, kWhat);
      seen_time = true;
      ++c.i;
      const int64_t m = c.number(2);
      if (m < 0 || m > 59) return syntax(c.i, kWhat);
      int64_t sec = 0;
      int64_t frac = 0;
      if (c.eat(':')) {
        sec = c.number(2);
        if (sec < 0 || sec > 59) return syntax(c.i, kWhat);
        if (c.eat('.')) {
          std::size_t f = 0;
          frac = c.number(6, &f);
          if (frac < 0) return syntax(c.i, kWhat);
          if (is_digit(c.peek())) return syntax(c.i, "has more than 6 fractional digits");
          for (; f < 6; ++f) frac *= 10;
        }
      }
      // Accumulated as a magnitude so that -2562047788:00:54.775808 (INT64_MIN) fits.
      uint64_t magnitude;
      if (__builtin_mul_overflow(static_cast<uint64_t>(n), uint64_t{kMicrosPerHour}, &magnitude) ||
          __builtin_add_overflow(
              magnitude,
              static_cast<uint64_t>(m * kMicrosPerMinute + sec * kMicrosPerSecond + frac),
              &magnitude) ||
          magnitude > (negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1)) {
        return out_of_range(token, "has a time part out of range");
      }
      micros = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
    } else {
      if (count > 10) return out_of_range(digits_at, "has a field out of range");
      if (!c.eat(' ')) return syntax(c.i, kWhat);
      const std::size_t unit_at = c.i;
      while (!c.at_end() && c.peek() != ' ') ++c.i;
      const std::string_view unit = c.s.substr(unit_at, c.i - unit_at);
      if (negative) n = -n;
      if (unit == "year" || unit == "years") {
        months += n * 12;
      } else if (unit == "mon" || unit == "mons") {
        months += n;
      } else if (unit == "day" || unit == "days") {
        days += n;
      } else {
        return syntax(unit_at, kWhat);
      }
      if (months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX) {
        return out_of_range(token, "has a field out of range");
      }
    }
    if (!c.at_end() && !c.eat(' ')) return syntax(c.i, kWhat);
  }
  return ParsedInterval{static_cast<int32_t>(months), static_cast<int32_t>(days), micros};
}

}  // namespace vil::values::detail
