#include <gtest/gtest.h>

#include <string>

#include "vil/pgoutput/frames.hpp"
#include "wire.hpp"

namespace vil::pgoutput {
namespace {

using testing::Wire;

TEST(Frames, DecodesXLogData) {
  const Wire frame =
      Wire('w').u64(0x16B3748).u64(0x200000010ULL).i64(757'479'845'000'000).raw("Bpayload");
  const auto decoded = decode_copy_data(frame.span());
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto* data = std::get_if<XLogData>(&*decoded);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->wal_start, Lsn{0x16B3748});
  EXPECT_EQ(data->wal_end, Lsn{0x200000010ULL});
  EXPECT_EQ(data->send_time.micros, 757'479'845'000'000);
  ASSERT_EQ(data->payload.size(), 8U);
  EXPECT_EQ(data->payload.data(), frame.span().data() + kXLogDataHeaderSize);
}

TEST(Frames, DecodesXLogDataWithEmptyPayload) {
  const Wire frame = Wire('w').u64(1).u64(2).i64(3);
  const auto decoded = decode_copy_data(frame.span());
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(std::get<XLogData>(*decoded).payload.empty());
}

TEST(Frames, DecodesPrimaryKeepalive) {
  for (const bool reply : {false, true}) {
    const Wire frame = Wire('k').u64(0xABCDEF0).i64(-5).u8(reply ? 1 : 0);
    const auto decoded = decode_copy_data(frame.span());
    ASSERT_TRUE(decoded) << decoded.error().message;
    const auto& keepalive = std::get<PrimaryKeepalive>(*decoded);
    EXPECT_EQ(keepalive.wal_end, Lsn{0xABCDEF0});
    EXPECT_EQ(keepalive.send_time.micros, -5);
    EXPECT_EQ(keepalive.reply_requested, reply);
  }
}

TEST(Frames, EncodesStandbyStatusUpdate) {
  const auto bytes =
      encode_standby_status_update(Lsn{0x0102030405060708ULL}, Lsn{0x1A2B3C4}, Lsn{0x10},
                                   PgTimestamp{757'479'845'000'000}, true);
  const Wire expected =
      Wire('r').u64(0x0102030405060708ULL).u64(0x1A2B3C4).u64(0x10).i64(757'479'845'000'000).u8(1);
  ASSERT_EQ(expected.size(), 34U);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), expected.bytes().begin()));
  const auto no_reply = encode_standby_status_update(Lsn{1}, Lsn{2}, Lsn{3}, PgTimestamp{4}, false);
  EXPECT_EQ(no_reply[33], std::byte{0});
  EXPECT_EQ(no_reply[0], std::byte{'r'});
}

TEST(Frames, RejectsUnknownType) {
  const Wire frame = Wire('Z').u64(0);
  const auto decoded = decode_copy_data(frame.span());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::UnknownFrameType);
  EXPECT_EQ(decoded.error().message_type, 'Z');
  EXPECT_EQ(decoded.error().message,
            "unknown CopyData frame type 'Z' (0x5A) at offset 0: expected XLogData 'w' or primary "
            "keepalive 'k'");
}

TEST(Frames, RejectsEmptyFrame) {
  const auto decoded = decode_copy_data({});
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::Truncated);
}

TEST(Frames, RejectsEveryTruncation) {
  const Wire xlogdata = Wire('w').u64(1).u64(2).i64(3);
  for (std::size_t cut = 1; cut < xlogdata.size(); ++cut) {
    const auto decoded = decode_copy_data(xlogdata.span().first(cut));
    ASSERT_FALSE(decoded) << cut;
    EXPECT_EQ(decoded.error().code, DecodeErrc::Truncated) << cut;
  }
  const Wire keepalive = Wire('k').u64(1).i64(2).u8(0);
  for (std::size_t cut = 1; cut < keepalive.size(); ++cut) {
    const auto decoded = decode_copy_data(keepalive.span().first(cut));
    ASSERT_FALSE(decoded) << cut;
    EXPECT_EQ(decoded.error().code, DecodeErrc::Truncated) << cut;
  }
}

TEST(Frames, TruncationMessageNamesTheField) {
  const Wire frame = Wire('w').u64(1).u16(7);
  const auto decoded = decode_copy_data(frame.span());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().offset, 9U);
  EXPECT_EQ(decoded.error().message,
            "XLogData: frame truncated at offset 9: need 8 bytes for WAL end, 2 left");
}

TEST(Frames, RejectsKeepaliveWithExtraBytes) {
  const Wire frame = Wire('k').u64(1).i64(2).u8(0).u8(0);
  const auto decoded = decode_copy_data(frame.span());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::TrailingBytes);
  EXPECT_EQ(decoded.error().offset, 18U);
}

TEST(Frames, RejectsKeepaliveReplyFlagOtherThanZeroOrOne) {
  for (const int flag : {2, 0x80, 0xFF}) {
    const Wire frame = Wire('k').u64(1).i64(2).u8(static_cast<std::uint8_t>(flag));
    const auto decoded = decode_copy_data(frame.span());
    ASSERT_FALSE(decoded) << flag;
    EXPECT_EQ(decoded.error().code, DecodeErrc::InvalidValue);
    EXPECT_EQ(decoded.error().message_type, 'k');
    EXPECT_EQ(decoded.error().offset, 17U);
    EXPECT_EQ(decoded.error().message, "Primary keepalive: reply requested flag at offset 17 is " +
                                           std::to_string(flag) + "; expected 0 or 1");
  }
}

}  // namespace
}  // namespace vil::pgoutput
