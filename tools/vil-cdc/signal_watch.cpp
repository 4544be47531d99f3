#include "signal_watch.hpp"

#include <pthread.h>
#include <signal.h>

namespace vil::cli {

namespace {
// SIGUSR2 only ends the watch itself.
sigset_t watched() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);
  return set;
}
}  // namespace

SignalWatch::SignalWatch() {
  // A closed pipe is an EPIPE from write(), handled where the write is.
  signal(SIGPIPE, SIG_IGN);
  sigset_t set = watched();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this] {
    sigset_t wait_set = watched();
    for (;;) {
      int sig = 0;
      if (sigwait(&wait_set, &sig) != 0 || sig == SIGUSR2) return;
      received_.store(sig);
      std::lock_guard lock(mutex_);
      if (action_) action_();
    }
  });
}

SignalWatch::~SignalWatch() {
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
}

void SignalWatch::set_action(std::function<void()> action) {
  std::lock_guard lock(mutex_);
  action_ = std::move(action);
  if (action_ && received_.load() != 0) action_();
}

}  // namespace vil::cli
