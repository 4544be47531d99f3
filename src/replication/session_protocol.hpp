#pragma once
// The streaming state of one session as a pure function of the frames that
// arrive and the clock's readings: what each CopyData frame asks for (a WAL
// frame or a server position to queue, a reply the server wants), when a
// standby status update is due, and when the socket should wake the thread
// only for a socket full of frames (bulk mode). It owns no socket, thread or
// clock: StreamReader feeds it bytes and time points and carries out what it
// says, and the unit tests feed it the same without a server.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "vil/replication/stream_error.hpp"

namespace vil::replication {

class SessionProtocol {
 public:
  using Clock = std::chrono::steady_clock;

  // Bytes taken from the socket before the thread looks at the clock and
  // the control lane again.
  static constexpr size_t kBatchBytes = 1u << 20;
  // kBulkEnterBytes, or kBulkEnterReads reads, within kBulkMaxWait say the
  // server is streaming in bulk: a socket full at a time, or small
  // transactions that it sends a message to a packet (W2 of the benchmark: a
  // wake-up every 20 us for 50-byte reads). The socket then wakes the thread
  // only once kBulkLowWater bytes wait, or after kBulkMaxWait. Bulk mode
  // lasts while each such wake still finds kBulkLeaveBytes, so it does not
  // flip on every read. A steady 2,000 transactions a second stays below
  // both marks.
  static constexpr size_t kBulkEnterBytes = 8u << 10;
  static constexpr uint32_t kBulkEnterReads = 32;
  static constexpr size_t kBulkLeaveBytes = 1u << 10;
  static constexpr int kBulkLowWater = 64 << 10;
  static constexpr std::chrono::microseconds kBulkMaxWait{2000};
  // A status update that only moves the flush position forward waits at
  // least this long after the previous one.
  static constexpr std::chrono::milliseconds kEarlyStatusGap{1000};

  // `status_interval`: status_interval() of the setting and the server's
  // wal_sender_timeout. The first status update is due at once: the server
  // learns where we are.
  SessionProtocol(std::chrono::milliseconds status_interval, Clock::time_point now);

  // What one CopyData frame asks for.
  struct Incoming {
    enum class Kind {
      WalData,         // queue a WalFrame: `lsn` is its wal_start, `payload` its message
      ServerPosition,  // queue a ServerPosition at `lsn` (a keepalive that moved)
      Nothing,         // a keepalive that said nothing new
    };
    Kind kind = Kind::Nothing;
    uint64_t lsn = 0;
    std::span<const std::byte> payload;  // a view into the frame
  };
  // Reads one frame. A keepalive that asks for a reply makes a status update
  // due at once. A frame that is neither XLogData nor a keepalive is a
  // MalformedFrame error.
  std::expected<Incoming, StreamError> on_copy_data(std::span<const std::byte> frame);

  // Whether to send a status update now, given what may be confirmed: the
  // server asked, the interval passed, or the confirmable LSN moved and
  // kEarlyStatusGap passed since the last one.
  [[nodiscard]] bool status_due(Clock::time_point now, uint64_t confirmable) const;
  // A status update carrying `flush` was sent at `now`.
  void status_sent(Clock::time_point now, uint64_t flush);
  // True when `confirmable` is past what the last update carried: the thread
  // has a deadline for it, so a new confirmation need not wake it.
  [[nodiscard]] bool confirm_pending(uint64_t confirmable) const {
    return confirmable > last_sent_flush_;
  }
  // How long the thread may sleep: the next status update, an early one for
  // a pending confirmation, and in bulk mode kBulkMaxWait at most.
  [[nodiscard]] Clock::time_point wake_by(Clock::time_point now, uint64_t confirmable) const;

  // After a pass that read `bytes` from the socket (0 too), woken by the
  // socket or a timer (`woke_for_data`) or by the wake fd: the socket's new
  // receive low-water mark when bulk mode begins (kBulkLowWater) or ends (1).
  // Only a wake by the socket or a timer says how fast data comes.
  std::optional<int> paced(Clock::time_point now, size_t bytes, bool woke_for_data);
  // Bulk mode: the socket's low-water mark is raised.
  [[nodiscard]] bool coalescing() const { return coalescing_; }

  // An XLogData frame came in this session.
  [[nodiscard]] bool received_data() const { return received_data_; }
  // The latest position the server reported (XLogData or keepalive).
  [[nodiscard]] uint64_t server_wal_end() const { return server_wal_end_; }

 private:
  void note_server_end(uint64_t lsn) {
    if (lsn > server_wal_end_) server_wal_end_ = lsn;
  }

  std::chrono::milliseconds interval_;
  Clock::time_point last_status_;
  Clock::time_point next_status_;
  bool reply_requested_ = false;
  uint64_t last_sent_flush_ = 0;
  uint64_t last_position_ = 0;  // of the last ServerPosition queued
  uint64_t server_wal_end_ = 0;
  bool received_data_ = false;

  bool coalescing_ = false;
  Clock::time_point window_start_{};  // bytes read since then: is the server streaming in bulk?
  size_t window_bytes_ = 0;
  uint32_t window_reads_ = 0;
};

}  // namespace vil::replication
