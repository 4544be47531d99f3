// date, time, timetz, timestamp, timestamptz and interval from their DateStyle ISO /
// IntervalStyle postgres text forms.
#pragma once

#include <cstdint>
#include <string_view>

#include "failure.hpp"

namespace vil::values::detail {

// Days since 1970-01-01, or Date::kInfinity / Date::kMinusInfinity.
Parsed<int32_t> parse_date(std::string_view text) noexcept;

// Microseconds since midnight.
Parsed<int64_t> parse_time(std::string_view text) noexcept;

struct ParsedTimeTz {
  int64_t micros;
  int32_t offset_seconds;
};
Parsed<ParsedTimeTz> parse_timetz(std::string_view text) noexcept;

// Microseconds since the Unix epoch (UTC for timestamptz), or the int64 extremes for
// infinity / -infinity.
Parsed<int64_t> parse_timestamp(std::string_view text, bool with_zone) noexcept;

struct ParsedInterval {
  int32_t months;
  int32_t days;
  int64_t micros;
};
Parsed<ParsedInterval> parse_interval(std::string_view text) noexcept;

// Days from 1970-01-01 to the given proleptic Gregorian date (year 0 is 1 BC).
constexpr int64_t days_from_civil(int64_t y, int64_t m, int64_t d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace vil::values::detail
