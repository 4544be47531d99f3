#pragma once
// What the I/O thread and the delivery thread share: the control lane's
// flags, the frame queue, the acknowledgement state, counters, and the fault
// that ended the stream.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "replication/ack_tracker.hpp"
#include "replication/frame_queue.hpp"
#include "replication/wake_fd.hpp"
#include "vil/cdc/cdc_config.hpp"
#include "vil/cdc/cdc_fault.hpp"

namespace vil::replication {

// Frames waiting for delivery, at most: enough to keep the owner busy while
// the socket refills, small enough that memory stays flat.
inline constexpr size_t kQueueBytes = 8u << 20;

struct StreamShared {
  explicit StreamShared(const cdc::CdcConfig& c, uint64_t start_lsn) : config(c), ack(start_lsn) {}

  const cdc::CdcConfig& config;
  WakeFd io_wake;
  std::atomic<bool> stop{false};  // asked for (control lane, or the end LSN)
  std::atomic<bool> paused{false};
  // The delivery thread flushed what it delivered after a stop: the I/O
  // thread may send the final status update and close.
  std::atomic<bool> delivery_done{false};
  // The I/O thread ended (its fault, if any, is recorded); set after
  // IoFinished was queued.
  std::atomic<bool> io_finished{false};
  FrameArena arena;  // before the queue: queued frames point into it
  FrameQueue queue{kQueueBytes};
  AckTracker ack;
  uint64_t end_lsn = 0;  // 0: none; set before the threads start
  // An earlier run of this trigger streamed from the slot: set-up never
  // creates it again (set before the threads start).
  bool slot_streamed_before = false;

  // The delivery thread waits here while paused; resume, stop and the end of
  // the I/O thread wake it.
  std::mutex control_mutex;
  std::condition_variable control_changed;
  // Wakes the delivery thread wherever it waits (paused, or for frames).
  void wake_delivery() {
    { std::lock_guard lock(control_mutex); }
    control_changed.notify_all();
    queue.wake_consumer();
  }

  std::atomic<uint64_t> status_updates_sent{0};
  std::atomic<uint64_t> stream_errors{0};
  std::atomic<uint64_t> server_wal_end{0};  // latest position the server reported
  std::atomic<uint64_t> bytes_received{0};
  std::atomic<uint64_t> confirmed_lsn{0};  // last flush LSN sent to the server
  // The I/O thread is about to sleep without a deadline for the next
  // acknowledgement: a newly confirmable LSN must wake it. Otherwise it wakes
  // on its own, and a wake-up per delivered batch would only cost CPU.
  std::atomic<bool> ack_wake_wanted{true};

  // Retries and reconnects, in words, for whoever watches (the CLI's stderr).
  std::function<void(const std::string&)> on_notice;

  void set_fault(cdc::CdcFault fault) {
    std::lock_guard lock(fault_mutex);
    if (!fault_) fault_ = std::move(fault);
  }
  std::optional<cdc::CdcFault> fault() const {
    std::lock_guard lock(fault_mutex);
    return fault_;
  }

 private:
  mutable std::mutex fault_mutex;
  std::optional<cdc::CdcFault> fault_;
};

}  // namespace vil::replication
