#pragma once
// The streaming replication protocol's CopyData frames around pgoutput
// messages (PostgreSQL's "Streaming Replication Protocol"): XLogData and the
// primary keepalive from the server, the standby status update to it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <variant>

#include "vil/pgoutput/error.hpp"
#include "vil/pgoutput/lsn.hpp"
#include "vil/pgoutput/timestamp.hpp"

namespace vil::pgoutput {

// 'w': WAL data; with pgoutput, exactly one logical replication message.
struct XLogData {
  Lsn wal_start;  // where the data starts in the WAL
  Lsn wal_end;    // the server's current end of WAL
  PgTimestamp send_time;
  std::span<const std::byte> payload;
};

// 'k': sent when idle, and when the server wants an answer soon.
struct PrimaryKeepalive {
  Lsn wal_end;  // the server's current end of WAL
  PgTimestamp send_time;
  bool reply_requested = false;
};

using Frame = std::variant<XLogData, PrimaryKeepalive>;

// Decodes one CopyData message body as received in CopyBoth mode. Offsets in
// errors count from the frame's first byte; a payload's messages are decoded
// separately (decode_message / Decoder) with offsets from the payload's start.
[[nodiscard]] std::expected<Frame, DecodeError> decode_copy_data(std::span<const std::byte> frame);

// Bytes before an XLogData payload: type byte, three Int64.
inline constexpr std::size_t kXLogDataHeaderSize = 25;
inline constexpr std::size_t kStandbyStatusUpdateSize = 34;

// 'r': tells the server how far the client has written, flushed and applied.
// The flushed position is what the slot's confirmed_flush_lsn advances to.
[[nodiscard]] std::array<std::byte, kStandbyStatusUpdateSize> encode_standby_status_update(
    Lsn written, Lsn flushed, Lsn applied, PgTimestamp now, bool reply_requested) noexcept;

}  // namespace vil::pgoutput
