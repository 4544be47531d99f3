#pragma once
// An eventfd that the control lane writes to so the I/O thread, asleep in
// poll(), wakes at once for pause, resume or stop.

#include <cstdint>

namespace vil::replication {

class WakeFd {
 public:
  WakeFd();
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  int fd() const { return fd_; }
  void notify() const;  // async-signal-safe
  void drain() const;   // clears the readiness

 private:
  int fd_;
};

}  // namespace vil::replication
