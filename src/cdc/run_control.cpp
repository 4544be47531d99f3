#include "run_control.hpp"

namespace vil::cdc {

void RunControl::pause() {
  std::lock_guard lock(mutex_);
  paused_.store(true);
  if (reader_ != nullptr) {
    reader_->set_reading(false);
    // An idle delivery thread waits for frames: it acknowledges the pause now.
    queue_->wake_consumer();
  }
}

void RunControl::resume() {
  std::lock_guard lock(mutex_);
  paused_.store(false);
  if (reader_ != nullptr) {
    queue_->wake_consumer();
    reader_->set_reading(true);
  }
}

void RunControl::stop() {
  std::lock_guard lock(mutex_);
  if (reader_ == nullptr) return;
  stop_.store(true);
  // Frames read from now on would never be delivered.
  reader_->set_reading(false);
  queue_->wake_consumer();
}

bool RunControl::attach(replication::StreamReader& reader, replication::FrameQueue& queue) {
  std::lock_guard lock(mutex_);
  if (reader_ != nullptr) return false;
  reader_ = &reader;
  queue_ = &queue;
  stop_.store(false);
  reader.set_reading(!paused_.load());
  return true;
}

bool RunControl::detach() {
  std::lock_guard lock(mutex_);
  reader_ = nullptr;
  queue_ = nullptr;
  return stop_.exchange(false);
}

}  // namespace vil::cdc
