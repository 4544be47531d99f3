#pragma once
// poll() on one socket plus the wake fd, with a deadline.

#include <atomic>
#include <chrono>

#include "vil/replication/wake_fd.hpp"

namespace vil::replication {

enum class WaitResult { Ready, Woken, Timeout, Error };

using Clock = std::chrono::steady_clock;

// Waits until `fd` has `events` (POLLIN/POLLOUT), the wake fd fires, or the
// deadline passes. The wake fd is not drained: its owner decides what it meant.
WaitResult wait_for_socket(int fd, short events, const WakeFd* wake, Clock::time_point deadline);

// What may cut a connection's wait short (connecting, set-up commands): the
// wake fd fires for pause, resume and delivery progress too, so only a wake
// with `stop` set interrupts; the others are drained and the wait goes on.
struct Interrupt {
  const WakeFd* wake = nullptr;
  const std::atomic<bool>* stop = nullptr;

  bool requested() const { return stop != nullptr && stop->load(); }
};

// As above, but Woken only once `interrupt` was requested.
WaitResult wait_for_socket(int fd, short events, const Interrupt& interrupt,
                           Clock::time_point deadline);

}  // namespace vil::replication
