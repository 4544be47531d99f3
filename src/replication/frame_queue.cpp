#include "replication/frame_queue.hpp"

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
  }
  batch.clear();
  ready_.notify_one();
}

bool FrameQueue::pop_all(std::vector<QueueItem>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !items_.empty() || woken_; })) return false;
  woken_ = false;
  if (items_.empty()) return false;
  out.swap(items_);
  items_.clear();
  return true;
}

bool FrameQueue::release(size_t bytes) {
  std::lock_guard lock(mutex_);
  const bool was_full = bytes_ >= max_bytes_;
  bytes_ -= bytes;
  return was_full && bytes_ < max_bytes_;
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
