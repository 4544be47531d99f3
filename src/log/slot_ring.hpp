#pragma once
// SlotRing: a bounded multi-producer, single-consumer ring of LogSlots.
//
// Each cell has a sequence number (the bounded-queue scheme of D. Vyukov): a
// producer claims position p with one CAS on the tail when its cell's
// sequence equals p, copies the slot in, and publishes with sequence p + 1.
// The consumer takes position p once the sequence reads p + 1 and frees the
// cell for the next lap with sequence p + capacity. A producer that finds its
// cell still a lap behind reports the ring full: it never waits.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "vil/log/log_slot.hpp"

namespace vil::log::detail {

class SlotRing {
 public:
  // capacity: a power of two, at least 2.
  explicit SlotRing(std::size_t capacity);

  // Any thread. False when full (the caller counts the drop).
  bool try_push(const LogSlot& slot) noexcept;
  // One consumer at a time (callers serialise and thereby order themselves).
  bool try_pop(LogSlot& slot) noexcept;

  std::size_t capacity() const noexcept { return static_cast<std::size_t>(mask_ + 1); }

 private:
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) std::uint64_t head_ = 0;
  std::uint64_t mask_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> sequences_;
  std::unique_ptr<LogSlot[]> cells_;
};

}  // namespace vil::log::detail
