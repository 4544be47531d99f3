#pragma once
// What the delivery thread has handed over, by kind, and the commit time of
// the last transaction it delivered (TriggerMetrics). One writer, the
// delivery thread, so a count is a plain load and store: no locked
// instruction per change on the hot path.

#include <array>
#include <atomic>
#include <cstdint>

#include "vil/cdc/change.hpp"

namespace vil::cdc {

struct ChangeCounters {
  std::array<std::atomic<uint64_t>, 6> by_kind{};
  std::atomic<int64_t> last_commit_unix_ns{0};
  // Streamed transactions (CdcConfig::streaming): open now, delivered at
  // their Stream Commit, aborted, and the bytes of theirs written to spill
  // files.
  std::atomic<uint64_t> streamed_open{0};
  std::atomic<uint64_t> streamed_committed{0};
  std::atomic<uint64_t> streamed_aborted{0};
  std::atomic<uint64_t> streamed_spilled_bytes{0};

  void count(ChangeKind kind) {
    auto& counter = by_kind[static_cast<size_t>(kind)];
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  static void add(std::atomic<uint64_t>& counter, uint64_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

}  // namespace vil::cdc
