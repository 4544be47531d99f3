#include "ack_tracker.hpp"

#include <algorithm>

namespace vil::cdc {

AckTracker::AckTracker(uint32_t max_changes, uint64_t max_bytes)
    : max_changes_(max_changes), max_bytes_(max_bytes) {}

void AckTracker::begin_run(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  in_flight_.clear();
  bytes_ = 0;
  boundaries_.clear();
  confirmable_ = 0;
  failure_.reset();
  full_since_.reset();
  wake_ = std::move(wake);
}

void AckTracker::end_run() {
  std::lock_guard lock(mutex_);
  wake_ = nullptr;
}

bool AckTracker::full() const {
  // One change always fits, however large: a row bigger than the byte bound
  // must still get through.
  return !in_flight_.empty() && (in_flight_.size() >= max_changes_ || bytes_ >= max_bytes_);
}

bool AckTracker::sent(uint64_t sequence, uint64_t bytes) {
  std::lock_guard lock(mutex_);
  in_flight_.push_back(InFlight{sequence, bytes, false});
  bytes_ += bytes;
  if (!full()) return true;
  if (!full_since_) full_since_ = std::chrono::steady_clock::now();
  return false;
}

void AckTracker::boundary(uint64_t lsn) {
  std::lock_guard lock(mutex_);
  if (lsn <= confirmable_) return;
  if (in_flight_.empty()) {
    confirmable_ = lsn;
    return;
  }
  if (!boundaries_.empty() && boundaries_.back().last_sequence == in_flight_.back().sequence) {
    boundaries_.back().lsn = std::max(boundaries_.back().lsn, lsn);  // nothing sent in between
    return;
  }
  boundaries_.push_back(Boundary{in_flight_.back().sequence, lsn});
}

bool AckTracker::has_room() const {
  std::lock_guard lock(mutex_);
  return !full();
}

void AckTracker::wait(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout);
}

uint64_t AckTracker::confirmable() const {
  std::lock_guard lock(mutex_);
  return confirmable_;
}

size_t AckTracker::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_.size();
}

AckTracker::Figures AckTracker::figures() const {
  std::lock_guard lock(mutex_);
  return Figures{in_flight_.size(), acknowledged_, failures_, full_since_};
}

std::optional<AckTracker::Failure> AckTracker::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

void AckTracker::acknowledge(uint64_t sequence) {
  {
    std::lock_guard lock(mutex_);
    const auto it =
        std::lower_bound(in_flight_.begin(), in_flight_.end(), sequence,
                         [](const InFlight& entry, uint64_t s) { return entry.sequence < s; });
    if (it == in_flight_.end() || it->sequence != sequence || it->acknowledged) return;
    it->acknowledged = true;
    ++acknowledged_;
    const bool was_full = full();
    const uint64_t before = confirmable_;
    advance();
    if (!full()) full_since_.reset();
    if ((confirmable_ != before || (was_full && !full())) && wake_) wake_();
  }
  changed_.notify_all();
}

void AckTracker::fail(uint64_t sequence, std::string destination, std::string cause) {
  {
    std::lock_guard lock(mutex_);
    ++failures_;
    if (!failure_) failure_ = Failure{sequence, std::move(destination), std::move(cause)};
    if (wake_) wake_();
  }
  changed_.notify_all();
}

void AckTracker::advance() {
  while (!in_flight_.empty() && in_flight_.front().acknowledged) {
    bytes_ -= in_flight_.front().bytes;
    in_flight_.pop_front();
  }
  // A boundary is uncovered when no change sent before it waits.
  while (!boundaries_.empty() &&
         (in_flight_.empty() || boundaries_.front().last_sequence < in_flight_.front().sequence)) {
    confirmable_ = std::max(confirmable_, boundaries_.front().lsn);
    boundaries_.pop_front();
  }
}

}  // namespace vil::cdc
