#include "vil/replication/wake_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace vil::replication {

WakeFd::WakeFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

WakeFd::~WakeFd() {
  close(fd_);
}

void WakeFd::notify() const {
  uint64_t one = 1;
  // A full counter still leaves the fd readable, which is all we need.
  [[maybe_unused]] ssize_t n = write(fd_, &one, sizeof one);
}

void WakeFd::drain() const {
  uint64_t value = 0;
  [[maybe_unused]] ssize_t n = read(fd_, &value, sizeof value);
}

}  // namespace vil::replication
