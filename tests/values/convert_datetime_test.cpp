// Expected numbers come from PostgreSQL 15 itself (extract(epoch ...) * 1e6, date
// differences) for the same texts.
#include <gtest/gtest.h>

#include <limits>

#include "test_support.hpp"

namespace vil::values {
namespace {

using testing::err;
using testing::ok;

int32_t days(std::string_view text) {
  return std::get<Date>(ok(oid::kDate, text)).days;
}
int64_t ts(std::string_view text) {
  return std::get<Timestamp>(ok(oid::kTimestamp, text)).micros;
}
int64_t tstz(std::string_view text) {
  return std::get<TimestampTz>(ok(oid::kTimestampTz, text)).micros;
}
int64_t time_of(std::string_view text) {
  return std::get<Time>(ok(oid::kTime, text)).micros;
}

TEST(ConvertDate, DaysSinceTheUnixEpoch) {
  EXPECT_EQ(days("2024-01-15"), 19737);
  EXPECT_EQ(days("1970-01-01"), 0);
  EXPECT_EQ(days("1969-12-31"), -1);
  EXPECT_EQ(days("2000-02-29"), 11016);
  EXPECT_EQ(days("0001-01-01"), -719162);
  EXPECT_EQ(days("0001-12-31 BC"), -719163);
  EXPECT_EQ(days("0044-03-15 BC"), -735160);
  EXPECT_EQ(days("4714-11-24 BC"), -2440588);
  EXPECT_EQ(days("5874897-12-31"), 2145042905);
  const std::string_view text = "2024-01-15";
  EXPECT_EQ(std::get<Date>(ok(oid::kDate, text)).text.data(), text.data());
}

TEST(ConvertDate, Infinities) {
  const Date inf = std::get<Date>(ok(oid::kDate, "infinity"));
  EXPECT_EQ(inf.days, Date::kInfinity);
  EXPECT_FALSE(inf.is_finite());
  EXPECT_EQ(days("-infinity"), Date::kMinusInfinity);
  EXPECT_TRUE(std::get<Date>(ok(oid::kDate, "2024-01-15")).is_finite());
}

TEST(ConvertDate, Errors) {
  EXPECT_EQ(err(oid::kDate, "2023-02-29").message,
            "date: '2023-02-29' has a date field out of range (offset 0)");
  EXPECT_EQ(err(oid::kDate, "2024-13-01").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kDate, "2024-00-10").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kDate, "0000-01-01").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kDate, "4714-11-23 BC").message,
            "date: '4714-11-23 BC' is out of range [4714-11-24 BC, 5874897-12-31] (offset 0)");
  EXPECT_EQ(err(oid::kDate, "5874898-01-01").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kDate, "2024/01/15").offset, 4u);
  EXPECT_EQ(err(oid::kDate, "2024-01-15 XY").offset, 11u);
  EXPECT_EQ(err(oid::kDate, "2024-01-15x").offset, 10u);
  EXPECT_EQ(err(oid::kDate, "").code, ValueErrorCode::Syntax);
  EXPECT_EQ(err(oid::kDate, "infinit").code, ValueErrorCode::Syntax);
}

TEST(ConvertTime, MicrosecondsSinceMidnight) {
  EXPECT_EQ(time_of("04:05:06.789"), 14706789000);
  EXPECT_EQ(time_of("00:00:00"), 0);
  EXPECT_EQ(time_of("24:00:00"), 86400000000);
  EXPECT_EQ(time_of("23:59:59.999999"), 86399999999);
  EXPECT_EQ(time_of("23:59:60"), 86400000000);
  EXPECT_EQ(time_of("12:30"), 45000000000);
  EXPECT_EQ(err(oid::kTime, "24:00:00.000001").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kTime, "25:00:00").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kTime, "12:60:00").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kTime, "12:00:00.1234567").message,
            "time: '12:00:00.1234567' has more than 6 fractional digits (offset 15)");
  EXPECT_EQ(err(oid::kTime, "12:00:00+01").offset, 8u);
  EXPECT_EQ(err(oid::kTime, "noon").offset, 0u);
}

TEST(ConvertTimeTz, TimeAndOffset) {
  auto tz = [](std::string_view t) { return std::get<TimeTz>(ok(oid::kTimeTz, t)); };
  EXPECT_EQ(tz("04:05:06.789-08").micros, 14706789000);
  EXPECT_EQ(tz("04:05:06.789-08").offset_seconds, -28800);
  EXPECT_EQ(tz("12:00:00+05:30").offset_seconds, 19800);
  EXPECT_EQ(tz("00:00:00+00").offset_seconds, 0);
  EXPECT_EQ(tz("23:59:59.999999+15:59:59").offset_seconds, 57599);
  EXPECT_EQ(tz("24:00:00-15:59:59").micros, 86400000000);
  EXPECT_EQ(tz("24:00:00-15:59:59").offset_seconds, -57599);
  EXPECT_EQ(err(oid::kTimeTz, "12:00:00").message,
            "timetz: '12:00:00' is not a time with UTC offset (HH:MM:SS[.ffffff]+HH[:MM]) "
            "(offset 8)");
  EXPECT_EQ(err(oid::kTimeTz, "12:00:00+16").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kTimeTz, "12:00:00+05:60").code, ValueErrorCode::OutOfRange);
}

TEST(ConvertTimestamp, MicrosecondsSinceTheUnixEpoch) {
  EXPECT_EQ(ts("2024-01-15 10:30:00"), 1705314600000000);
  EXPECT_EQ(ts("2024-01-15 10:30:00.000001"), 1705314600000001);
  EXPECT_EQ(ts("2024-01-15T10:30:00"), 1705314600000000);
  EXPECT_EQ(ts("0044-03-15 10:00:00 BC"), -63517788000000000);
  EXPECT_EQ(ts("4714-11-24 00:00:00 BC"), -210866803200000000);
  EXPECT_EQ(ts("2024-02-29 24:00:00"), 1709251200000000);
  EXPECT_EQ(ts("1583-10-15 00:00:00"), -12187756800000000);
  EXPECT_EQ(ts("infinity"), Timestamp::kInfinity);
  EXPECT_EQ(ts("-infinity"), Timestamp::kMinusInfinity);
  EXPECT_FALSE(std::get<Timestamp>(ok(oid::kTimestamp, "infinity")).is_finite());
  const std::string_view text = "2024-01-15 10:30:00";
  EXPECT_EQ(std::get<Timestamp>(ok(oid::kTimestamp, text)).text, text);
}

TEST(ConvertTimestamp, Errors) {
  EXPECT_EQ(err(oid::kTimestamp, "2024-01-15 10:30:00+00").message,
            "timestamp: '2024-01-15 10:30:00+00' has a UTC offset, which timestamp (without "
            "time zone) does not take (offset 19)");
  EXPECT_EQ(err(oid::kTimestamp, "2024-01-15").offset, 10u);
  EXPECT_EQ(err(oid::kTimestamp, "2024-01-15 24:00:01").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kTimestamp, "4714-11-23 23:59:59 BC").code, ValueErrorCode::OutOfRange);
  // PostgreSQL goes on to 294276 AD; microseconds since 1970 in an int64 stop in 294247.
  EXPECT_EQ(err(oid::kTimestamp, "294276-12-31 23:59:59.999999").message,
            "timestamp: '294276-12-31 23:59:59.999999' is out of range [4714-11-24 BC, "
            "294247-01-10 UTC] (offset 0)");
  EXPECT_EQ(ts("294247-01-10 04:00:54.775806"), std::numeric_limits<int64_t>::max() - 1);
}

TEST(ConvertTimestampTz, OffsetsApplied) {
  EXPECT_EQ(tstz("2024-01-15 16:00:00.123456+05:30"), 1705314600123456);
  EXPECT_EQ(tstz("2024-01-15 02:30:00-08"), 1705314600000000);
  EXPECT_EQ(tstz("1970-01-01 00:00:00+00"), 0);
  EXPECT_EQ(tstz("0044-03-15 10:00:00+05:53:28 BC"), -63517809208000000);
  EXPECT_EQ(tstz("1800-01-01 05:53:28+05:53:28"), -5364662400000000);
  EXPECT_EQ(tstz("4714-11-24 00:00:00+00 BC"), -210866803200000000);
  EXPECT_EQ(tstz("2000-02-29 23:59:59.999999+00"), 951868799999999);
  EXPECT_EQ(tstz("1969-12-31 23:59:59.5+00"), -500000);
  EXPECT_EQ(tstz("0001-01-01 00:00:00+00"), -62135596800000000);
  EXPECT_EQ(tstz("0001-12-31 00:00:00+00 BC"), -62135683200000000);
  EXPECT_EQ(tstz("2024-01-15 10:30:00.5+14:45"), 1705261500500000);
  EXPECT_EQ(tstz("294246-12-31 23:59:59.999999+00"), 9223371244799999999);
  EXPECT_EQ(tstz("infinity"), TimestampTz::kInfinity);
  EXPECT_EQ(tstz("-infinity"), TimestampTz::kMinusInfinity);
}

TEST(ConvertTimestampTz, Errors) {
  EXPECT_EQ(err(oid::kTimestampTz, "2024-01-15 10:30:00").offset, 19u);
  EXPECT_EQ(err(oid::kTimestampTz, "2024-01-15 10:30:00+").offset, 20u);
  EXPECT_EQ(err(oid::kTimestampTz, "2024-01-15 10:30:00+16").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kTimestampTz, "2024-01-15 10:30:00+00 XX").offset, 23u);
  EXPECT_EQ(err(oid::kTimestampTz, "4714-11-24 00:00:00+01 BC").code, ValueErrorCode::OutOfRange);
}

Interval iv(std::string_view text) {
  return std::get<Interval>(ok(oid::kInterval, text));
}

TEST(ConvertInterval, PostgresStyle) {
  struct Case {
    std::string_view text;
    int32_t months;
    int32_t days;
    int64_t micros;
  };
  constexpr Case kCases[] = {
      {"1 year 2 mons 3 days 04:05:06.789", 14, 3, 14706789000},
      {"-1 days +02:03:00", 0, -1, 7380000000},
      {"00:00:00", 0, 0, 0},
      {"-1 years -2 mons +3 days -04:05:06", -14, 3, -14706000000},
      {"1 mon -00:00:01", 1, 0, -1000000},
      {"178956970 years 7 mons", 2147483647, 0, 0},
      {"-178956970 years -8 mons", -2147483647 - 1, 0, 0},
      {"1 day", 0, 1, 0},
      {"-00:00:00.000001", 0, 0, -1},
      {"2562047788:00:54.775807", 0, 0, std::numeric_limits<int64_t>::max()},
      {"-2562047788:00:54.775808", 0, 0, std::numeric_limits<int64_t>::min()},
      {"3 days 100:00:00", 0, 3, 360000000000},
      {"1 year", 12, 0, 0},
      {"2 mons", 2, 0, 0},
  };
  for (const auto& c : kCases) {
    const Interval i = iv(c.text);
    EXPECT_EQ(i.months, c.months) << c.text;
    EXPECT_EQ(i.days, c.days) << c.text;
    EXPECT_EQ(i.micros, c.micros) << c.text;
    EXPECT_EQ(i.text, c.text);
  }
}

TEST(ConvertInterval, Errors) {
  EXPECT_EQ(err(oid::kInterval, "").code, ValueErrorCode::Syntax);
  EXPECT_EQ(err(oid::kInterval, "1 fortnight").message,
            "interval: '1 fortnight' is not an interval (IntervalStyle postgres: [N years] [N "
            "mons] [N days] [[+-]HH:MM:SS]) (offset 2)");
  EXPECT_EQ(err(oid::kInterval, "1").offset, 1u);
  EXPECT_EQ(err(oid::kInterval, "178956971 years").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kInterval, "2562047788:00:54.775808").code, ValueErrorCode::OutOfRange);
  EXPECT_EQ(err(oid::kInterval, "01:00:00 02:00:00").offset, 9u);
  EXPECT_EQ(err(oid::kInterval, "1 day  2 mons").offset, 6u);
  EXPECT_EQ(err(oid::kInterval, "P1Y").offset, 0u);
  EXPECT_EQ(err(oid::kInterval, "00:00:00.1234567").code, ValueErrorCode::Syntax);
}

}  // namespace
}  // namespace vil::values
