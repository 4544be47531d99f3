#pragma once
// Which LSN may be confirmed to the server (docs/DESIGN.md §3, §6.3). The delivery thread
// publishes what it delivered and flushed; the I/O thread adds the positions
// keepalives report, but only once every frame received before such a
// keepalive was delivered, and only if no transaction was open at that point:
// an idle slot advances, and a transaction in flight is never skipped.

#include <cstdint>
#include <mutex>

namespace vil::replication {

class AckTracker {
 public:
  explicit AckTracker(uint64_t start_lsn = 0) : delivered_lsn_(start_lsn), confirmed_(start_lsn) {}

  // Delivery side, after a flush: every frame up to `frames_done` (counted
  // since the trigger started) is delivered, and transactions up to `lsn`.
  void publish_delivered(uint64_t lsn, uint64_t frames_done) {
    std::lock_guard lock(mutex_);
    if (lsn > delivered_lsn_) delivered_lsn_ = lsn;
    if (frames_done > frames_done_) frames_done_ = frames_done;
  }

  // I/O side: a keepalive said the server sent everything up to `lsn`, after
  // `frames_received` frames; `transaction_open` if a Begin had no Commit yet.
  void note_server_position(uint64_t lsn, uint64_t frames_received, bool transaction_open) {
    if (transaction_open) return;
    std::lock_guard lock(mutex_);
    if (lsn > idle_lsn_) {
      idle_lsn_ = lsn;
      idle_frames_ = frames_received;
    }
  }

  // The flush LSN to report now; never goes backwards.
  uint64_t confirmable() {
    std::lock_guard lock(mutex_);
    uint64_t lsn = delivered_lsn_;
    if (frames_done_ >= idle_frames_ && idle_lsn_ > lsn) lsn = idle_lsn_;
    if (lsn > confirmed_) confirmed_ = lsn;
    return confirmed_;
  }

 private:
  mutable std::mutex mutex_;
  uint64_t delivered_lsn_;
  uint64_t frames_done_ = 0;
  uint64_t idle_lsn_ = 0;
  uint64_t idle_frames_ = 0;
  uint64_t confirmed_;
};

}  // namespace vil::replication
