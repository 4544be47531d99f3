#pragma once
// SIGINT and SIGTERM, taken by one thread with sigwait() so that the action
// (stop the trigger) runs as ordinary code, not in a signal handler. Create it
// first in main(), before any other thread, so every thread inherits the
// blocked mask and no signal lands elsewhere.

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace vil::cli {

class SignalWatch {
 public:
  SignalWatch();
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  // What a signal does from now on; runs at once if one already came.
  void set_action(std::function<void()> action);
  // The signal that arrived, or 0.
  int received() const { return received_.load(); }

 private:
  std::mutex mutex_;
  std::function<void()> action_;
  std::atomic<int> received_{0};
  std::thread thread_;
};

}  // namespace vil::cli
