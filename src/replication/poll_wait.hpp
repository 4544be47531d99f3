#pragma once
// poll() on one socket plus the wake fd, with a deadline.

#include <chrono>

#include "replication/wake_fd.hpp"

namespace vil::replication {

enum class WaitResult { Ready, Woken, Timeout, Error };

using Clock = std::chrono::steady_clock;

// Waits until `fd` has `events` (POLLIN/POLLOUT), the wake fd fires, or the
// deadline passes. The wake fd is not drained: its owner decides what it meant.
WaitResult wait_for_socket(int fd, short events, const WakeFd* wake, Clock::time_point deadline);

}  // namespace vil::replication
