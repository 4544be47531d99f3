#include "session_protocol.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vil/pgoutput/frames.hpp"

namespace vil::replication {

SessionProtocol::SessionProtocol(std::chrono::milliseconds status_interval, Clock::time_point now)
    : interval_(status_interval), last_status_(now), next_status_(now) {}

std::expected<SessionProtocol::Incoming, StreamError> SessionProtocol::on_copy_data(
    std::span<const std::byte> frame) {
  auto decoded = pgoutput::decode_copy_data(frame);
  if (!decoded) {
    const auto& e = decoded.error();
    StreamError error(StreamErrc::MalformedFrame,
                      fmt::format("the server sent a frame that is not valid: {}", e.message));
    error.message_type = e.message_type;
    error.offset = static_cast<uint32_t>(e.offset);
    return std::unexpected(std::move(error));
  }
  if (const auto* data = std::get_if<pgoutput::XLogData>(&*decoded)) {
    note_server_end(data->wal_end.value);
    received_data_ = true;
    return Incoming{Incoming::Kind::WalData, data->wal_start.value, data->payload};
  }
  const auto& keepalive = std::get<pgoutput::PrimaryKeepalive>(*decoded);
  note_server_end(keepalive.wal_end.value);
  reply_requested_ = reply_requested_ || keepalive.reply_requested;
  if (keepalive.wal_end.value <= last_position_) return Incoming{};
  last_position_ = keepalive.wal_end.value;
  return Incoming{Incoming::Kind::ServerPosition, last_position_, {}};
}

bool SessionProtocol::status_due(Clock::time_point now, uint64_t confirmable) const {
  if (reply_requested_ || now >= next_status_) return true;
  return confirm_pending(confirmable) && now - last_status_ >= kEarlyStatusGap;
}

void SessionProtocol::status_sent(Clock::time_point now, uint64_t flush) {
  reply_requested_ = false;
  last_status_ = now;
  next_status_ = now + interval_;
  last_sent_flush_ = std::max(last_sent_flush_, flush);
}

SessionProtocol::Clock::time_point SessionProtocol::wake_by(Clock::time_point now,
                                                            uint64_t confirmable) const {
  Clock::time_point deadline = next_status_;
  if (reply_requested_) deadline = now;
  if (confirm_pending(confirmable)) deadline = std::min(deadline, last_status_ + kEarlyStatusGap);
  // While coalescing, what is below the low-water mark is read after a short
  // wait at most.
  if (coalescing_) deadline = std::min(deadline, now + kBulkMaxWait);
  return deadline;
}

std::optional<int> SessionProtocol::paced(Clock::time_point now, size_t bytes, bool woke_for_data) {
  // Bulk streaming: wake for a socket full of frames, not for each packet
  // (the wake-ups, not the decoding, were most of the CPU). A trickle of
  // small transactions keeps waking per packet: no latency.
  if (now - window_start_ > kBulkMaxWait) {
    window_start_ = now;
    window_bytes_ = 0;
    window_reads_ = 0;
  }
  window_bytes_ += bytes;
  window_reads_ += bytes > 0 ? 1 : 0;
  const bool bulk = coalescing_
                        ? bytes >= kBulkLeaveBytes
                        : window_bytes_ >= kBulkEnterBytes || window_reads_ >= kBulkEnterReads;
  if (bulk == coalescing_ || !woke_for_data) return std::nullopt;
  coalescing_ = bulk;
  return bulk ? kBulkLowWater : 1;
}

}  // namespace vil::replication
