#include <gtest/gtest.h>

#include "vil/pgoutput/lsn.hpp"
#include "vil/pgoutput/timestamp.hpp"

namespace vil::pgoutput {
namespace {

TEST(Lsn, FormatsLikePostgres) {
  EXPECT_EQ(to_string(Lsn{0}), "0/0");
  EXPECT_EQ(to_string(Lsn{0x1A2B3C4}), "0/1A2B3C4");
  EXPECT_EQ(to_string(Lsn{0x100000000ULL}), "1/0");
  EXPECT_EQ(to_string(Lsn{0x16B374800000010ULL}), "16B3748/10");
  EXPECT_EQ(to_string(Lsn{~0ULL}), "FFFFFFFF/FFFFFFFF");
  EXPECT_EQ(format_lsn(Lsn{0xABCDEF0}).view(), "0/ABCDEF0");
}

TEST(Lsn, ParsesWhatPostgresAccepts) {
  EXPECT_EQ(parse_lsn("0/1A2B3C4"), Lsn{0x1A2B3C4});
  EXPECT_EQ(parse_lsn("0/1a2b3c4"), Lsn{0x1A2B3C4});
  EXPECT_EQ(parse_lsn("16B3748/10"), Lsn{0x16B374800000010ULL});
  EXPECT_EQ(parse_lsn("FFFFFFFF/FFFFFFFF"), Lsn{~0ULL});
  EXPECT_EQ(parse_lsn("00000000/00000001"), Lsn{1});
  EXPECT_EQ(parse_lsn("0/0"), Lsn{0});
}

TEST(Lsn, RejectsEverythingElse) {
  for (const char* text : {"", "/", "0/", "/0", "0", "0/1/2", " 0/1", "0/1 ", "0x0/1",
                           "123456789/0", "0/123456789", "G/0", "0/-1", "+0/1", "0//1"}) {
    EXPECT_FALSE(parse_lsn(text).has_value()) << text;
  }
}

TEST(Lsn, RoundTrips) {
  for (const std::uint64_t v : {0ULL, 1ULL, 0xFULL, 0x10ULL, 0xFFFFFFFFULL, 0x123456789ABCDEFULL}) {
    EXPECT_EQ(parse_lsn(to_string(Lsn{v})), Lsn{v});
  }
}

TEST(Lsn, OrdersByValue) {
  EXPECT_LT(Lsn{1}, Lsn{2});
  EXPECT_FALSE(Lsn{}.valid());
  EXPECT_TRUE(Lsn{1}.valid());
}

TEST(PgTimestamp, ConvertsToUnixNanoseconds) {
  EXPECT_EQ(PgTimestamp{0}.unix_ns(), 946'684'800'000'000'000);
  // 2024-01-02 03:04:05 UTC, as captured in messages.hex's Commit.
  EXPECT_EQ(PgTimestamp{757'479'845'000'000}.unix_ns(), 1'704'164'645'000'000'000);
  EXPECT_EQ(PgTimestamp{-946'684'800'000'000}.unix_ns(), 0);
  EXPECT_EQ(PgTimestamp{1}.unix_ns(), 946'684'800'000'001'000);
}

TEST(PgTimestamp, SaturatesInsteadOfOverflowing) {
  EXPECT_EQ(PgTimestamp{std::numeric_limits<std::int64_t>::max()}.unix_ns(),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(PgTimestamp{std::numeric_limits<std::int64_t>::min()}.unix_ns(),
            std::numeric_limits<std::int64_t>::min());
}

TEST(PgTimestamp, FromUnixNanoseconds) {
  EXPECT_EQ(PgTimestamp::from_unix_ns(946'684'800'000'000'000).micros, 0);
  EXPECT_EQ(PgTimestamp::from_unix_ns(1'704'164'645'000'000'999).micros, 757'479'845'000'000);
  EXPECT_EQ(PgTimestamp::from_unix_ns(0).micros, -946'684'800'000'000);
  EXPECT_EQ(PgTimestamp::from_unix_ns(-1).micros, -946'684'800'000'001);  // rounds down
}

}  // namespace
}  // namespace vil::pgoutput
