#pragma once
// The I/O thread: holds the replication connection, sets up each session,
// reads CopyData frames into the frame queue, answers keepalives, reports the
// LSN the delivery side made confirmable, and reconnects with backoff when the
// connection is lost. Sockets, timers and the thread's waits live here and
// nowhere else; what to do with each frame and when a status update is due
// is decided by the sans-I/O SessionProtocol (session_protocol.hpp).
//
// The delivery side talks to it through three calls, each one decision:
// set_reading() (pause), confirm() (acknowledgement) and finish() (the run
// is over). Nothing else is shared but the queue.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "vil/replication/frame_queue.hpp"
#include "vil/replication/stream_error.hpp"
#include "vil/replication/stream_settings.hpp"
#include "vil/replication/wake_fd.hpp"

namespace vil::replication {

// Counters of one stream; read from any thread.
struct StreamStats {
  uint64_t status_updates_sent = 0;
  uint64_t stream_errors = 0;   // sessions that ended with the connection lost
  uint64_t bytes_received = 0;  // XLogData frames, whole
  uint64_t confirmed_lsn = 0;   // the last flush LSN sent to the server
  uint64_t server_wal_end = 0;  // the latest position the server reported
  // A session is streaming from the slot now: not connecting, not waiting
  // to reconnect, not ended.
  bool streaming = false;
};

class StreamReader {
 public:
  using NoticeCallback = std::function<void(const std::string&)>;

  // The reader becomes `queue`'s producer: the queue wakes it.
  // `on_notice` hears of retries and reconnects, in words; what it throws
  // ends the stream with NoticeFailed.
  StreamReader(StreamSettings settings, FrameQueue& queue, NoticeCallback on_notice);
  ~StreamReader();
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  // The I/O thread's body. Runs until finish(), or an error no retry cures
  // (then error() holds it); always ends by queueing IoFinished. Never
  // throws: whatever escapes becomes the error.
  void run();

  // Any thread. false: stop reading (the owner paused), but keep sending
  // status updates; true: read again.
  void set_reading(bool reading);
  // Any thread: every transaction up to `lsn` was delivered and flushed (or
  // the server said there is nothing before it), so the slot may be
  // confirmed up to there. Never goes backwards.
  void confirm(uint64_t lsn);
  // Any thread: the delivery side read the snapshot of SnapshotExported
  // whole; the stream may start.
  void snapshot_read();
  // Any thread: the delivery side is done. A streaming session sends its last
  // status update (with what was confirmed), ends the copy and closes;
  // connecting or waiting to reconnect just stops.
  void finish();

  // After IoFinished was taken from the queue (or run() returned).
  const std::optional<StreamError>& error() const { return error_; }
  // A session of this stream got as far as streaming from the slot.
  bool ever_streamed() const { return ever_streamed_.load(); }
  StreamStats stats() const;

 private:
  struct Session;
  enum class End { Finished, Lost, Fatal };
  struct SessionEnd {
    End end;
    std::optional<StreamError> error;
    bool streamed = false;       // it got as far as streaming from the slot
    bool received_data = false;  // an XLogData frame came
  };

  void reconnect_loop();
  SessionEnd run_session();
  SessionEnd stream(Session& session);
  SessionEnd stream_ended(const Session& session) const;
  bool send_status_update(Session& session);
  // Sleeps the backoff; false when finish() came first.
  bool back_off(std::chrono::milliseconds wait);
  // Waits until the delivery side delivered every queued frame, so that a new
  // session starts after them; false when finish() came first.
  bool wait_for_delivery();
  // Waits until snapshot_read(); false when finish() came first.
  bool wait_for_snapshot();
  // Sleeps on the wake fd until `ready` says so; false when finish() came
  // first (true if `ready` holds even then).
  bool wait_until(const std::function<bool()>& ready);
  // Tells the owner's on_notice; false when that callback threw (the error
  // is then recorded and the stream ends).
  bool notice(const std::string& text);
  void fail(StreamError error);

  const StreamSettings settings_;
  FrameQueue& queue_;
  NoticeCallback on_notice_;
  WakeFd wake_;

  // Set by other threads.
  std::atomic<bool> reading_{true};
  std::atomic<bool> finishing_{false};
  std::atomic<bool> snapshot_read_{false};
  std::atomic<uint64_t> confirmable_{0};
  // The I/O thread is about to sleep without a deadline for the next status
  // update: a newly confirmable LSN must wake it. Otherwise it wakes on its
  // own, and a wake-up per delivered batch would only cost CPU.
  std::atomic<bool> confirm_wake_wanted_{true};

  // Read by other threads.
  std::atomic<bool> ever_streamed_{false};
  std::atomic<bool> streaming_{false};
  std::atomic<uint64_t> status_updates_sent_{0};
  std::atomic<uint64_t> stream_errors_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> confirmed_lsn_{0};
  std::atomic<uint64_t> server_wal_end_{0};

  std::optional<StreamError> error_;  // the I/O thread's until IoFinished
  bool notice_failed_ = false;
  // The I/O thread's: the server ("host:port", timeline) this stream first
  // streamed from, so a slot missing after a failover is said to be that.
  std::string first_address_;
  uint32_t first_timeline_ = 0;
  uint32_t jitter_seed_;
};

}  // namespace vil::replication
