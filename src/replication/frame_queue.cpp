#include "vil/replication/frame_queue.hpp"

namespace vil::replication {

bool FrameQueue::has_room() const {
  std::lock_guard lock(mutex_);
  return bytes_ < max_bytes_;
}

void FrameQueue::push(std::vector<QueueItem>& batch, size_t batch_bytes) {
  if (batch.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (items_.empty()) {
      items_.swap(batch);
    } else {
      for (auto& item : batch) items_.push_back(std::move(item));
    }
    bytes_ += batch_bytes;
    if (std::holds_alternative<IoFinished>(items_.back())) ended_ = true;
  }
  batch.clear();
  ready_.notify_one();
}

bool FrameQueue::pop_all(std::vector<QueueItem>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !items_.empty() || woken_; })) return false;
  return take_all(out);
}

bool FrameQueue::take_all(std::vector<QueueItem>& out) {
  woken_ = false;
  if (items_.empty()) return false;
  out.swap(items_);
  items_.clear();
  return true;
}

bool FrameQueue::drained_or_notify() {
  std::lock_guard lock(mutex_);
  const bool drained = items_.empty() && bytes_ == 0;
  drain_wanted_ = !drained;
  return drained;
}

bool FrameQueue::pop_all(std::vector<QueueItem>& out) {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return !items_.empty() || woken_; });
  return take_all(out);
}

bool FrameQueue::wait_for_wake_or_end() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return woken_ || ended_; });
  woken_ = false;
  return ended_;
}

bool FrameQueue::release(size_t bytes) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    const bool was_full = bytes_ >= max_bytes_;
    bytes_ -= bytes;
    wake = was_full && bytes_ < max_bytes_;
    if (drain_wanted_ && items_.empty() && bytes_ == 0) {
      drain_wanted_ = false;
      wake = true;
    }
  }
  if (wake && producer_wake_ != nullptr) producer_wake_->notify();
  return wake;
}

void FrameQueue::wake_consumer() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  ready_.notify_one();
}

bool FrameQueue::drained() const {
  std::lock_guard lock(mutex_);
  return items_.empty() && bytes_ == 0;
}

bool FrameQueue::empty() const {
  std::lock_guard lock(mutex_);
  return items_.empty();
}

}  // namespace vil::replication
