#include "session_protocol.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vil/pgoutput/frames.hpp"

namespace vil::replication {

SessionProtocol::SessionProtocol(std::chrono::milliseconds status_interval, Clock::time_point now,
                                 Peer peer)
    : interval_(status_interval), last_status_(now), next_status_(now), peer_(peer) {}

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
  // wait at most; when reading on the timer, the timer is the only wake.
  if (timed_) {
    deadline = std::min<Clock::time_point>(deadline, now + kSameHostPace);
  } else if (coalescing_) {
    deadline = std::min<Clock::time_point>(deadline, now + kBulkMaxWait);
  }
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
  if (!woke_for_data) return std::nullopt;
  if (timed_) {
    if (bytes >= kTimedLeaveBytes) return std::nullopt;
    timed_ = false;
    coalescing_ = false;
    return std::nullopt;  // the mark was left at 1 on the timer
  }
  if (!coalescing_) {
    if (window_bytes_ < kBulkEnterBytes && window_reads_ < kBulkEnterReads) return std::nullopt;
    coalescing_ = true;
    bulk_since_ = now;
    bulk_bytes_ = 0;
    return kBulkLowWater;
  }
  if (bytes < kBulkLeaveBytes) {
    coalescing_ = false;
    return 1;
  }
  // Judged over each kTimedAfter of bulk mode, so hours at a moderate rate
  // do not hide a server that now sends as fast as it can.
  bulk_bytes_ += bytes;
  const auto lasted = now - bulk_since_;
  if (peer_ != Peer::SameHostTcp || lasted < kTimedAfter) return std::nullopt;
  const auto lasted_us = std::chrono::duration_cast<std::chrono::microseconds>(lasted).count();
  const bool fast = bulk_bytes_ * 1'000'000 >= kTimedEnterRate * static_cast<size_t>(lasted_us);
  bulk_since_ = now;
  bulk_bytes_ = 0;
  if (!fast) return std::nullopt;
  timed_ = true;
  return 1;  // poll() no longer waits for the socket
}

}  // namespace vil::replication
