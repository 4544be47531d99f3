// CopyData frames of the streaming replication protocol.

#include <fmt/format.h>

#include "byte_reader.hpp"
#include "vil/pgoutput/frames.hpp"

namespace vil::pgoutput {
namespace {

using detail::ByteReader;

// XLogData: WAL start, WAL end, send time, then the payload to the end.
XLogData read_xlogdata(ByteReader& r) {
  XLogData f;
  f.wal_start = r.lsn("WAL start");
  f.wal_end = r.lsn("WAL end");
  f.send_time = r.timestamp("send time");
  f.payload = r.rest();
  return f;
}

// Primary keepalive: WAL end, send time, reply requested (1 = reply soon,
// 0 = no; the protocol defines no other value).
PrimaryKeepalive read_keepalive(ByteReader& r) {
  PrimaryKeepalive f;
  f.wal_end = r.lsn("WAL end");
  f.send_time = r.timestamp("send time");
  const std::size_t at = r.offset();
  const std::uint8_t reply = r.u8("reply requested flag");
  if (!r.failed() && reply > 1) {
    r.fail(DecodeErrc::InvalidValue, at,
           fmt::format("Primary keepalive: reply requested flag at offset {} is {}; expected 0 "
                       "or 1",
                       at, reply));
  }
  f.reply_requested = reply == 1;
  return f;
}

}  // namespace

std::expected<Frame, DecodeError> decode_copy_data(std::span<const std::byte> frame) {
  if (frame.empty()) {
    return std::unexpected(
        DecodeError{DecodeErrc::Truncated, 0, 0, "CopyData: empty frame: no type byte"});
  }
  const auto type = static_cast<std::uint8_t>(frame[0]);
  if (type == 'w') {
    ByteReader r(frame, "XLogData", "frame");
    (void)r.u8("type");
    XLogData f = read_xlogdata(r);
    if (r.failed()) return std::unexpected(r.take_error());
    return f;
  }
  if (type == 'k') {
    ByteReader r(frame, "Primary keepalive", "frame");
    (void)r.u8("type");
    PrimaryKeepalive f = read_keepalive(r);
    r.expect_end();
    if (r.failed()) return std::unexpected(r.take_error());
    return f;
  }
  std::string message = "unknown CopyData frame type ";
  if (type >= 0x20 && type < 0x7f) message += fmt::format("'{}' ", static_cast<char>(type));
  message +=
      fmt::format("(0x{:02X}) at offset 0: expected XLogData 'w' or primary keepalive 'k'", type);
  return std::unexpected(DecodeError{DecodeErrc::UnknownFrameType, type, 0, std::move(message)});
}

std::array<std::byte, kStandbyStatusUpdateSize> encode_standby_status_update(
    Lsn written, Lsn flushed, Lsn applied, PgTimestamp now, bool reply_requested) noexcept {
  std::array<std::byte, kStandbyStatusUpdateSize> out{};
  out[0] = std::byte{'r'};
  store_be(out.data() + 1, written.value);
  store_be(out.data() + 9, flushed.value);
  store_be(out.data() + 17, applied.value);
  store_be(out.data() + 25, now.micros);
  out[33] = std::byte{reply_requested ? std::uint8_t{1} : std::uint8_t{0}};
  return out;
}

}  // namespace vil::pgoutput
