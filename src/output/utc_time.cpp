#include "utc_time.hpp"

namespace vil::output::detail {
namespace {

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Proleptic Gregorian date of a day count from 1970-01-01, counted in 400-year
// eras that start on March 1st so that the leap day ends each year.
constexpr CivilDate civil_from_days(std::int64_t days) noexcept {
  days += 719468;  // 0000-03-01 to 1970-01-01
  const std::int64_t era = floor_div(days, 146097);
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);  // [0, 146096]
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned month_from_march = (5 * day_of_year + 2) / 153;  // [0, 11]
  const unsigned day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
  const unsigned month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  const std::int64_t year =
      static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

static_assert(civil_from_days(0).year == 1970 && civil_from_days(0).month == 1 &&
              civil_from_days(0).day == 1);
static_assert(civil_from_days(11016).year == 2000 && civil_from_days(11016).month == 2 &&
              civil_from_days(11016).day == 29);
static_assert(civil_from_days(-1).year == 1969 && civil_from_days(-1).month == 12 &&
              civil_from_days(-1).day == 31);

void put_digits(char* out, std::uint64_t value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

void format_utc_micros(std::int64_t unix_ns, char* out) noexcept {
  constexpr std::int64_t kMicrosPerDay = 86'400'000'000;
  const std::int64_t micros = floor_div(unix_ns, 1000);
  const std::int64_t days = floor_div(micros, kMicrosPerDay);
  auto of_day = static_cast<std::uint64_t>(micros - days * kMicrosPerDay);
  const CivilDate date = civil_from_days(days);
  const std::uint64_t fraction = of_day % 1'000'000;
  of_day /= 1'000'000;
  // int64 nanoseconds reach years 1677..2262 only: four digits always suffice.
  put_digits(out, static_cast<std::uint64_t>(date.year), 4);
  out[4] = '-';
  put_digits(out + 5, date.month, 2);
  out[7] = '-';
  put_digits(out + 8, date.day, 2);
  out[10] = 'T';
  put_digits(out + 11, of_day / 3600, 2);
  out[13] = ':';
  put_digits(out + 14, of_day / 60 % 60, 2);
  out[16] = ':';
  put_digits(out + 17, of_day % 60, 2);
  out[19] = '.';
  put_digits(out + 20, fraction, 6);
  out[26] = 'Z';
}

}  // namespace vil::output::detail
