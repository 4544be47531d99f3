#include "slot_ring.hpp"

#include <cassert>

namespace vil::log::detail {

SlotRing::SlotRing(std::size_t capacity)
    : mask_(capacity - 1),
      sequences_(std::make_unique<std::atomic<std::uint64_t>[]>(capacity)),
      cells_(std::make_unique<LogSlot[]>(capacity)) {
  assert(capacity >= 2 && (capacity & (capacity - 1)) == 0);
  for (std::size_t i = 0; i < capacity; ++i) sequences_[i].store(i, std::memory_order_relaxed);
}

bool SlotRing::try_push(const LogSlot& slot) noexcept {
  std::uint64_t position = tail_.load(std::memory_order_relaxed);
  for (;;) {
    std::atomic<std::uint64_t>& sequence = sequences_[position & mask_];
    const std::uint64_t seen = sequence.load(std::memory_order_acquire);
    const auto lag = static_cast<std::int64_t>(seen - position);
    if (lag == 0) {
      if (tail_.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
        cells_[position & mask_] = slot;
        sequence.store(position + 1, std::memory_order_release);
        return true;
      }
      // position now holds the tail another producer advanced to.
    } else if (lag < 0) {
      return false;  // the consumer has not freed this cell yet: full
    } else {
      position = tail_.load(std::memory_order_relaxed);
    }
  }
}

bool SlotRing::try_pop(LogSlot& slot) noexcept {
  std::atomic<std::uint64_t>& sequence = sequences_[head_ & mask_];
  if (sequence.load(std::memory_order_acquire) != head_ + 1) return false;
  slot = cells_[head_ & mask_];
  sequence.store(head_ + mask_ + 1, std::memory_order_release);
  ++head_;
  return true;
}

}  // namespace vil::log::detail
