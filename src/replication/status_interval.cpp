#include "status_interval.hpp"

#include <algorithm>

namespace vil::replication {

std::chrono::milliseconds status_interval(std::chrono::milliseconds configured,
                                          int64_t wal_sender_timeout_ms) {
  using std::chrono::milliseconds;
  milliseconds interval = std::max(configured, kMinStatusInterval);
  if (wal_sender_timeout_ms > 0) {
    // Whole milliseconds: a timeout of 1 ms gets updates every 1 ms, the
    // closest the clock here comes to half of it.
    const milliseconds half(std::max<int64_t>(wal_sender_timeout_ms / 2, 1));
    interval = std::min(interval, half);
  }
  return interval;
}

}  // namespace vil::replication
