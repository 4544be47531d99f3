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

// Where the server is, as the connection's socket says: it decides how a
// long bulk mode reads (SessionProtocol::reads_on_timer()).
enum class Peer {
  Remote,       // TCP to another host: its sends cost it the same however we read
  SameHostTcp,  // TCP to this host (ReplicationConnection::peer_on_same_host())
  UnixSocket,   // the server's Unix-domain socket
};

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
  // A server on this host: once bulk mode has lasted kTimedAfter at
  // kTimedEnterRate or more (a server catching up, not a live workload's
  // burst), the socket is read on a timer (kSameHostPace) instead of when it
  // becomes readable, until a pace brings less than kTimedLeaveBytes (half
  // the rate that starts bulk mode). bench/compare/README.md, "The
  // walsender's pace", has the measurements.
  // - TCP: while our receive window is open, the kernel hands each of the
  //   walsender's sends to us in the walsender's own context, which doubled
  //   its CPU per change. With the socket's buffer kept at
  //   kSameHostReceiveBuffer and a read every kSameHostPace, the window
  //   stays shut most of the time, the walsender's sends only queue, and
  //   each read takes its queue in a few large segments.
  // - A Unix-domain socket is read as a remote server is: there each send
  //   is a packet of its own, and the server's send buffer holds only about
  //   a millisecond of them. A timer of 100-200 us took a third to a half
  //   off our CPU but kept the server waiting, up to 60% more wall time
  //   (W1-W3 at 3/10, 2026-12-03).
  static constexpr int kSameHostReceiveBuffer = 32 << 10;
  static constexpr std::chrono::milliseconds kTimedAfter{20};
  static constexpr size_t kTimedEnterRate = 8u << 20;  // bytes a second
  static constexpr std::chrono::microseconds kSameHostPace{10'000};
  // A status update that only moves the flush position forward waits at
  // least this long after the previous one.
  static constexpr std::chrono::milliseconds kEarlyStatusGap{1000};

  // `status_interval`: status_interval() of the setting and the server's
  // wal_sender_timeout. The first status update is due at once: the server
  // learns where we are.
  // `peer`: where the server is; on this host a long bulk mode reads on a
  // timer.
  SessionProtocol(std::chrono::milliseconds status_interval, Clock::time_point now,
                  Peer peer = Peer::Remote);

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
  // a pending confirmation, and in bulk mode kBulkMaxWait (kSameHostPace when
  // reading on the timer) at most.
  [[nodiscard]] Clock::time_point wake_by(Clock::time_point now, uint64_t confirmable) const;

  // After a wake's reads took `bytes` from the socket (0 too) and found it
  // empty, woken by the socket or a timer (`woke_for_data`) or by the wake
  // fd: the socket's new receive low-water mark when bulk mode begins
  // (kBulkLowWater) or ends, or reading on the timer begins (1). Only a wake
  // by the socket or a timer says how fast data comes.
  std::optional<int> paced(Clock::time_point now, size_t bytes, bool woke_for_data);
  // Bulk mode: the socket's low-water mark is raised, or it is read on the
  // timer.
  [[nodiscard]] bool coalescing() const { return coalescing_; }
  // A long bulk mode with a server on this host: wait for the timer, not
  // for the socket to become readable.
  [[nodiscard]] bool reads_on_timer() const { return timed_; }
  // The fewest bytes a period of the timer must bring to keep it.
  static constexpr size_t kTimedLeaveBytes = kBulkEnterBytes * (kSameHostPace / kBulkMaxWait) / 2;

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

  Peer peer_ = Peer::Remote;
  bool coalescing_ = false;
  bool timed_ = false;              // coalescing_ too
  Clock::time_point bulk_since_{};  // bulk_bytes_ read since then, in bulk mode
  size_t bulk_bytes_ = 0;
  Clock::time_point window_start_{};  // bytes read since then: is the server streaming in bulk?
  size_t window_bytes_ = 0;
  uint32_t window_reads_ = 0;
};

}  // namespace vil::replication
