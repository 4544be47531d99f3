#include "poll_wait.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>

namespace vil::replication {

WaitResult wait_for_socket(int fd, short events, const WakeFd* wake, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    int timeout_ms = static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, 60'000));
    pollfd fds[2] = {{fd, events, 0}, {wake ? wake->fd() : -1, POLLIN, 0}};
    int n = poll(fds, wake ? 2 : 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return WaitResult::Error;
    }
    if (wake && (fds[1].revents & POLLIN)) return WaitResult::Woken;
    if (fds[0].revents != 0) return WaitResult::Ready;
    if (Clock::now() >= deadline) return WaitResult::Timeout;
  }
}

WaitResult wait_for_socket(int fd, short events, const Interrupt& interrupt,
                           Clock::time_point deadline) {
  for (;;) {
    if (interrupt.requested()) return WaitResult::Woken;
    WaitResult result = wait_for_socket(fd, events, interrupt.wake, deadline);
    if (result != WaitResult::Woken) return result;
    if (interrupt.requested()) return WaitResult::Woken;
    // Not a stop: whoever waits next looks at every flag again anyway.
    interrupt.wake->drain();
  }
}

}  // namespace vil::replication
